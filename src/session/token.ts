import { VoiceAgentError, isAbortError, toVoiceAgentError } from '../errors.js';
import { isAgentSocketUrl, refuseSecretKeys } from './call-config.js';
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
 * the short-lived token from its answer. A redirect is not followed (the call's variables would go
 * wherever it points): it fails with a message asking for the endpoint's final URL.
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
        redirect: 'manual',
        signal: AbortSignal.any([signal, timeout]),
      });
      if (response.type === 'opaqueredirect') {
        throw new VoiceAgentError('token-failed', 'The token endpoint answered with a redirect, which is not followed: set token-endpoint to the URL it redirects to.');
      }
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
      // The browser does not say why a fetch failed; on another origin a missing CORS header is the usual cause.
      const origin = otherOrigin(endpoint);
      const message = origin
        ? `The token endpoint could not be reached: it is on another origin (${origin}), which may not allow this page's origin (${location.origin}) by CORS, or it is down.`
        : 'The token endpoint could not be reached.';
      throw new VoiceAgentError('token-failed', message, { cause: error });
    }
    return parseTokenResponse(body);
  };
}

/**
 * Asks `provider` for one connection's credentials. Whatever the provider throws becomes a
 * `token-failed` (an abort stays an abort); so does an answer without a token. An answer holding a
 * secret key anywhere is a `config-invalid` (see {@link refuseSecretKey}).
 */
export async function requestCredentials(provider: TokenProvider, request: TokenRequest, signal: AbortSignal): Promise<SessionCredentials> {
  let credentials: SessionCredentials;
  try {
    credentials = await provider(request, signal);
  } catch (error) {
    throw isAbortError(error) ? error : toVoiceAgentError(error, 'token-failed');
  }
  refuseSecretKey(credentials, 'provider');
  if (typeof credentials?.token !== 'string' || credentials.token === '') {
    throw new VoiceAgentError('token-failed', 'The token provider returned no token.');
  }
  return credentials;
}

/**
 * Accepts the Atoms shape `{data: {access_token, expires_in, sample_rate}}` and the flat
 * `{access_token}` / `{token}`, with an optional `url` (`wss:`, or `ws:` on this machine). Refuses
 * anything carrying a long-lived key (`config-invalid`); any other unusable answer is a `token-failed`.
 */
export function parseTokenResponse(body: unknown): SessionCredentials {
  refuseSecretKey(body, 'endpoint');
  if (typeof body !== 'object' || body === null) throw unusable('the answer is not a JSON object');
  const outer = body as Record<string, unknown>;
  const inner = typeof outer.data === 'object' && outer.data !== null ? (outer.data as Record<string, unknown>) : outer;
  const token = inner.access_token ?? inner.token ?? outer.access_token ?? outer.token;
  if (typeof token !== 'string' || token.length === 0) throw unusable('it has no access_token or token');
  const url = inner.url ?? outer.url;
  if (url !== undefined && !isAgentSocketUrl(url)) throw unusable('its url is not a wss: URL (or ws: on localhost)');
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
 * Throws a `config-invalid` when `answer` holds what looks like a long-lived secret key (`sk_` and 8 or
 * more key characters, in any key or value at any depth): the token endpoint (`endpoint`) or the
 * page's token provider (`provider`) must hand the browser a short-lived token, never the key. Nothing
 * of the answer is used; the message names who answered and the docs, never the key.
 */
export function refuseSecretKey(answer: unknown, from: 'endpoint' | 'provider'): void {
  const refused = refuseSecretKeys({ [`the token ${from}'s answer`]: answer });
  if (refused) throw refused;
}

/** The origin of `endpoint` when it is not the page's own. */
function otherOrigin(endpoint: string): string | undefined {
  try {
    const { origin } = new URL(endpoint, location.href);
    return origin === location.origin ? undefined : origin;
  } catch {
    return undefined;
  }
}

function unusable(why: string): VoiceAgentError {
  return new VoiceAgentError('token-failed', `The token endpoint's answer is unusable: ${why}.`);
}
