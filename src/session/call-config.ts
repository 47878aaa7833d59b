import { VoiceAgentError } from '../errors.js';
import { CALL_MODES, MAX_TEXT_LENGTH } from '../protocol/atoms/call-facts.js';
import type { CallMode, CallVariables } from './session-types.js';

/** The longest text the visitor may type (the protocol's limit). */
export { MAX_TEXT_LENGTH };

/** The Atoms agent socket, used unless the token endpoint names another. */
export const DEFAULT_SERVER_URL = 'wss://api.smallest.ai/atoms/v1/agent/connect';

/**
 * The connection settings a `va-before-connect` listener may edit, for the call being started (a copy:
 * the element's properties keep their values). Checked again after the listeners ran.
 */
export interface ConnectConfig {
  agentId: string;
  mode: CallMode;
  variables: CallVariables;
  serverUrl: string;
  tokenEndpoint: string;
}

/** A call's settings as the element's attributes and properties hold them, before validation. */
export interface CallSettings {
  readonly agentId: string;
  readonly mode: string;
  readonly variables: unknown;
  readonly serverUrl: string;
  readonly tokenEndpoint: string;
}

/** Values the `variables` attribute could not be read into; reported when a call starts. */
const unreadable = new WeakSet<object>();

/**
 * Reads the `variables` attribute: a JSON object. Anything else becomes an empty object that
 * {@link validateCallSettings} reports, so a typo surfaces when the call starts, not as a silent `{}`.
 */
export function variablesFromAttribute(value: string | null): CallVariables {
  if (value === null || value.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(value);
    if (isPlainObject(parsed)) return parsed as CallVariables;
  } catch {
    // reported on start
  }
  const invalid = {};
  unreadable.add(invalid);
  return invalid;
}

/** The settings as a call can use them, or the reason they are unusable (`config-invalid`). */
export function validateCallSettings(settings: CallSettings): ConnectConfig | VoiceAgentError {
  const { variables, mode } = settings;
  if (!isPlainObject(variables) || unreadable.has(variables)) {
    return new VoiceAgentError('config-invalid', 'The variables attribute must be a JSON object.');
  }
  const badKey = Object.entries(variables).find(([, v]) => !['string', 'number', 'boolean'].includes(typeof v));
  if (badKey) return new VoiceAgentError('config-invalid', `Variable "${badKey[0]}" must be a string, number or boolean.`);
  if (!(CALL_MODES as readonly string[]).includes(mode)) {
    return new VoiceAgentError('config-invalid', `mode must be "webcall" or "chat" (got "${String(mode)}").`);
  }
  return {
    agentId: settings.agentId,
    mode: mode as CallMode,
    variables: { ...(variables as CallVariables) },
    serverUrl: settings.serverUrl,
    tokenEndpoint: settings.tokenEndpoint,
  };
}

/** The jitter buffer's bounds in ms: a floor from 0 to 1000, a ceiling from the floor to 5000. */
export function validateBuffer(prebufferMs: number, maxBufferMs: number): VoiceAgentError | undefined {
  if (prebufferMs >= 0 && prebufferMs <= 1000 && maxBufferMs >= prebufferMs && maxBufferMs <= 5000) return undefined;
  return new VoiceAgentError(
    'config-invalid',
    `prebuffer-ms must be 0 to 1000 and max-buffer-ms from prebuffer-ms to 5000 (got ${prebufferMs} and ${maxBufferMs}).`,
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
