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

/** Values the `variables` attribute could not be read into, with its text; reported when a call starts. */
const unreadable = new WeakMap<object, string>();

/**
 * What looks like a long-lived secret API key: `sk_` at the start of a word, then 8 or more key
 * characters (letters, digits, `_`, `-`), anywhere in a text. (`task_description` is no key.)
 */
const SECRET_KEY = /(^|[^A-Za-z0-9])sk_[\w-]{8,}/;

/** Where the error for a secret key sends the developer. */
export const TOKEN_ENDPOINT_DOCS = 'https://www.npmjs.com/package/voice-agent-widget#the-token-endpoint-contract';

/**
 * Whether `value` holds what looks like a secret key ({@link SECRET_KEY}): a string, or at any depth
 * an object's or array's keys and values (cycles are walked once). Functions are not looked into.
 */
export function holdsSecretKey(value: unknown): boolean {
  const seen = new Set<unknown>();
  const queue = [value];
  // The queue grows while it is walked: every nested value is visited, however deep.
  for (const item of queue) {
    if (typeof item === 'string') {
      if (SECRET_KEY.test(item)) return true;
    } else if (typeof item === 'object' && item !== null && !seen.has(item)) {
      seen.add(item);
      for (const [key, nested] of Object.entries(item)) queue.push(key, nested);
    }
  }
  return false;
}

/**
 * The `config-invalid` error for the first of `places` (name → value) that holds a secret key, if one
 * does: it names the place (and `suffix`, where the value came from) and the docs, never the key. A
 * call checks every setting it sends or loads from this way, before anything else, so no other message
 * can echo the key; the token code checks the token answer the same way.
 */
export function refuseSecretKeys(places: Record<string, unknown>, suffix = ''): VoiceAgentError | undefined {
  const where = Object.keys(places).find((name) => holdsSecretKey(places[name]));
  return where === undefined
    ? undefined
    : new VoiceAgentError('config-invalid', `A secret API key (sk_…) was found in ${where}${suffix}: it must stay on your server. See the token endpoint docs: ${TOKEN_ENDPOINT_DOCS}`);
}

/**
 * Whether `value` is a URL the agent socket may use: `wss:`, or `ws:` on this machine only
 * (`localhost`, `127.0.0.1`, `[::1]`), so the token never travels unencrypted.
 */
export function isAgentSocketUrl(value: unknown): value is string {
  try {
    const { protocol, hostname } = new URL(value as string);
    return protocol === 'wss:' || (protocol === 'ws:' && ['localhost', '127.0.0.1', '[::1]'].includes(hostname));
  } catch {
    return false;
  }
}

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
  unreadable.set(invalid, value);
  return invalid;
}

/**
 * The settings as a call can use them, or the reason they are unusable (`config-invalid`): a secret
 * key in any of them (checked first; `suffix` tells where the values came from), `variables` that are
 * not an object of strings, numbers and booleans, an unknown `mode`, a `server-url` that is not
 * {@link isAgentSocketUrl | wss: (or ws: on this machine)}.
 */
export function validateCallSettings(settings: CallSettings, suffix?: string): ConnectConfig | VoiceAgentError {
  const { variables, mode, serverUrl } = settings;
  const secret = refuseSecretKeys(
    {
      'agent-id': settings.agentId,
      'token-endpoint': settings.tokenEndpoint,
      'server-url': serverUrl,
      mode,
      variables: unreadable.get(variables as object) ?? variables,
    },
    suffix,
  );
  if (secret) return secret;
  if (!isPlainObject(variables) || unreadable.has(variables)) {
    return new VoiceAgentError('config-invalid', 'The variables attribute must be a JSON object.');
  }
  const badKey = Object.entries(variables).find(([, v]) => !['string', 'number', 'boolean'].includes(typeof v));
  if (badKey) return new VoiceAgentError('config-invalid', `Variable "${badKey[0]}" must be a string, number or boolean.`);
  if (!(CALL_MODES as readonly string[]).includes(mode)) {
    return new VoiceAgentError('config-invalid', `mode must be "webcall" or "chat" (got "${String(mode)}").`);
  }
  if (!isAgentSocketUrl(serverUrl)) {
    return new VoiceAgentError('config-invalid', `server-url must be a wss: URL, or ws: on localhost (got "${String(serverUrl)}").`);
  }
  return {
    agentId: settings.agentId,
    mode: mode as CallMode,
    variables: { ...(variables as CallVariables) },
    serverUrl,
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
