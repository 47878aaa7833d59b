import { VoiceAgentError, isAbortError, toVoiceAgentError } from '../errors.js';
import type { CallMode, CallVariables } from './session-types.js';

/**
 * What the element asks the page's token endpoint for (the JSON body of the POST). `agent_id` is
 * left out when the element has none, for endpoints that pin their agent themselves.
 */
export interface TokenRequest {
  agent_id?: string;
  mode: CallMode;
  variables: CallVariables;
}

/** Short-lived credentials for one connection. Never cached, logged or put in an event. */
export interface SessionCredentials {
  token: string;
  /** Overrides the element's `server-url` for this connection. */
  url?: string;
  sampleRate?: number;
  expiresIn?: number;
}

/** Fetches the credentials for one connection: the page's own, or {@link endpointTokenProvider}. */
export type TokenProvider = (request: TokenRequest, signal: AbortSignal) => Promise<SessionCredentials>;

/** Settings for {@link endpointTokenProvider}. */
export interface EndpointTokenProviderOptions {
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * POSTs the token request as JSON to the page's own endpoint (which holds the secret key) and reads
 * the short-lived token from its answer.
 */
export function endpointTokenProvider(endpoint: string, options: EndpointTokenProviderOptions = {}): TokenProvider {
  const { timeoutMs = DEFAULT_TIMEOUT_MS, fetch: fetchImpl = globalThis.fetch.bind(globalThis) } = options;
  return async (request, signal) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    let response: Response;
    let body: unknown;
    try {
      response = await fetchImpl(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(request),
        credentials: 'same-origin',
        cache: 'no-store',
        signal: AbortSignal.any([signal, timeout]),
      });
      if (!response.ok) {
        throw new VoiceAgentError('token-failed', `The token endpoint answered HTTP ${response.status}.`, { status: response.status });
      }
      body = await response.json().catch((cause: unknown) => {
        throw new VoiceAgentError('token-failed', 'The token endpoint did not answer with JSON.', { cause });
      });
    } catch (error) {
      if (error instanceof VoiceAgentError) throw error;
      if (timeout.aborted && !signal.aborted) {
        throw new VoiceAgentError('token-failed', `The token endpoint did not answer within ${timeoutMs} ms.`, { cause: error });
      }
      if (isAbortError(error) || signal.aborted) throw error;
      throw new VoiceAgentError('token-failed', 'The token endpoint could not be reached.', { cause: error });
    }
    return parseTokenResponse(body);
  };
}

/**
 * Asks `provider` for one connection's credentials. Whatever the provider throws becomes a
 * `token-failed` (an abort stays an abort); so does an answer without a token, or one holding a secret key.
 */
export async function requestCredentials(provider: TokenProvider, request: TokenRequest, signal: AbortSignal): Promise<SessionCredentials> {
  let credentials: SessionCredentials;
  try {
    credentials = await provider(request, signal);
  } catch (error) {
    throw isAbortError(error) ? error : toVoiceAgentError(error, 'token-failed');
  }
  if (typeof credentials?.token !== 'string' || credentials.token === '') {
    throw new VoiceAgentError('token-failed', 'The token provider returned no token.');
  }
  refuseSecretKey(credentials, 'provider');
  return credentials;
}

/**
 * Accepts the Atoms shape `{data: {access_token, expires_in, sample_rate}}` and the flat
 * `{access_token}` / `{token}`, with an optional `url`. Refuses anything carrying a long-lived key.
 */
export function parseTokenResponse(body: unknown): SessionCredentials {
  refuseSecretKey(body, 'endpoint');
  if (typeof body !== 'object' || body === null) throw unusable('the answer is not a JSON object');
  const outer = body as Record<string, unknown>;
  const inner = typeof outer.data === 'object' && outer.data !== null ? (outer.data as Record<string, unknown>) : outer;
  const token = inner.access_token ?? inner.token ?? outer.access_token ?? outer.token;
  if (typeof token !== 'string' || token.length === 0) throw unusable('it has no access_token or token');
  const url = inner.url ?? outer.url;
  if (url !== undefined && !isWebSocketUrl(url)) throw unusable('its url is not a ws: or wss: URL');
  const sampleRate = inner.sample_rate ?? outer.sample_rate;
  const expiresIn = inner.expires_in ?? outer.expires_in;
  return {
    token,
    ...(typeof url === 'string' ? { url } : {}),
    ...(typeof sampleRate === 'number' ? { sampleRate } : {}),
    ...(typeof expiresIn === 'number' ? { expiresIn } : {}),
  };
}

/**
 * Throws a `token-failed` when `answer` holds a long-lived secret key (a string starting `sk_`, at any
 * depth): the token endpoint (`endpoint`) or the page's token provider (`provider`) must hand the
 * browser a short-lived token, never the key. The message does not contain the key.
 */
export function refuseSecretKey(answer: unknown, from: 'endpoint' | 'provider'): void {
  if (!containsSecretKey(answer)) return;
  throw new VoiceAgentError(
    'token-failed',
    from === 'endpoint'
      ? 'The token endpoint answered with a secret API key (sk_…). It must return a short-lived token; the key was not used.'
      : 'The token provider returned a secret API key (sk_…) instead of a short-lived token; it was not used.',
  );
}

/** Whether `value` is a `ws:` or `wss:` URL. */
export function isWebSocketUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'ws:' || protocol === 'wss:';
  } catch {
    return false;
  }
}

function unusable(why: string): VoiceAgentError {
  return new VoiceAgentError('token-failed', `The token endpoint's answer is unusable: ${why}.`);
}

function containsSecretKey(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.startsWith('sk_');
  if (typeof value !== 'object' || value === null || depth > 4) return false;
  return Object.values(value).some((v) => containsSecretKey(v, depth + 1));
}
