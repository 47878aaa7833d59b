/**
 * The agents the local agent plays and what `GET /atoms/v1/agent/{id}` answers about each: a small
 * subset of the Atoms agent record (`AgentDTO`), wrapped as Atoms wraps every answer
 * (`{status: true, data}`).
 */

/** An agent the local agent plays, as `GET /atoms/v1/agent/{id}` describes it. */
export interface LocalAgentProfile {
  /** The agent's name. Default `Local agent`. */
  name?: string;
  /** Default `''`. */
  description?: string;
}

/** What `GET /atoms/v1/agent/{id}` returns as `data`: the basic fields of an Atoms agent record. */
export interface AgentRecord {
  _id: string;
  name: string;
  description: string;
  organization: string;
  workflowType: 'single_prompt';
  language: { default: 'en'; supported: ['en'] };
  /** The greeting a voice call opens with (`''`: none). */
  firstMessage: string;
  defaultVariables: Record<string, never>;
  allowInterruptions: true;
  waitForUserToSpeakFirst: boolean;
  archived: false;
  createdAt: string;
  updatedAt: string;
}

const DEFAULT_NAME = 'Local agent';
const ORGANIZATION = 'local';

/**
 * The agents by id: the ones given, or, without a list, every id (the local agent then plays any
 * agent a page names). `connect` is never an agent id: on the real API a plain request to the
 * WebSocket path reaches the agent route and is refused as an invalid id.
 */
export class AgentDirectory {
  private readonly createdAt = new Date().toISOString();

  constructor(
    private readonly profiles: Readonly<Record<string, LocalAgentProfile>> | undefined,
    private readonly greeting: string,
  ) {}

  /** Whether `id` is an id at all (`connect` is the socket's path, not an agent). */
  static validId(id: string): boolean {
    return id !== '' && id !== 'connect';
  }

  has(id: string): boolean {
    if (!AgentDirectory.validId(id)) return false;
    return this.profiles === undefined || Object.hasOwn(this.profiles, id);
  }

  /** The agent's record, or undefined for an agent the local agent does not play. */
  record(id: string): AgentRecord | undefined {
    if (!this.has(id)) return undefined;
    const profile = this.profiles?.[id] ?? {};
    return {
      _id: id,
      name: profile.name ?? DEFAULT_NAME,
      description: profile.description ?? '',
      organization: ORGANIZATION,
      workflowType: 'single_prompt',
      language: { default: 'en', supported: ['en'] },
      firstMessage: this.greeting,
      defaultVariables: {},
      allowInterruptions: true,
      waitForUserToSpeakFirst: this.greeting.trim() === '',
      archived: false,
      createdAt: this.createdAt,
      updatedAt: this.createdAt,
    };
  }
}

/** Checks the `agents` option: an object of profiles by id, each a name and a description if given. */
export function validProfiles(agents: unknown): boolean {
  if (agents === undefined) return true;
  if (typeof agents !== 'object' || agents === null || Array.isArray(agents)) return false;
  return Object.entries(agents).every(
    ([id, profile]) =>
      AgentDirectory.validId(id) &&
      typeof profile === 'object' &&
      profile !== null &&
      ['name', 'description'].every((key) => {
        const value: unknown = (profile as Record<string, unknown>)[key];
        return value === undefined || typeof value === 'string';
      }),
  );
}
