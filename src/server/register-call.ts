/**
 * The one call to Atoms: `POST {upstream}/conversation/register-call` with the secret key, and what its
 * answer means for the browser. Upstream bodies and the key never leave this module; errors name the
 * upstream status and what to check.
 */
import { failure, readText } from './reply.js';
import type { Reply } from './reply.js';
import { isPlainObject, parseJsonObject } from './validation.js';
import type { CallMode, CallVariables } from './validation.js';

/** The `fetch` the handler calls Atoms with; the global one, or any function of the same shape. */
export type FetchFunction = (url: string, init: RequestInit) => Promise<Response>;

/** What a call to Atoms needs. */
export interface UpstreamSettings {
  apiKey: string;
  registerCallUrl: string;
  connectUrl: string | undefined;
  fetch: FetchFunction;
  timeoutMs: number;
}

/** A validated token request, as sent to Atoms. */
export interface TokenRequest {
  agent_id: string;
  mode: CallMode;
  variables: CallVariables;
}

/** The JSON body of a successful response. */
export interface VoiceTokenResponse {
  /** The single-use token for the agent WebSocket's `token` query parameter. */
  access_token: string;
  /** Seconds the token stays valid. */
  expires_in: number;
  /** Audio sample rate of the call, in Hz. */
  sample_rate: number;
  /** The WebSocket URL to connect to, when the handler was configured with `connectUrl`. */
  url?: string;
}

/** What Atoms documents for `wct_` tokens, used when its answer leaves a field out. */
const DEFAULT_EXPIRES_IN = 30;
const DEFAULT_SAMPLE_RATE = 24_000;
/** The most of an Atoms answer that is read: a token answer is a few hundred bytes. */
const MAX_UPSTREAM_BYTES = 64 * 1024;
const NO_CREDITS = /\bcredits?\b/i;
/** No answer to use: the fetch failed, or the call was given up before it answered. */
const NO_ANSWER = Symbol('no answer');

/**
 * Asks Atoms for a token and turns its answer into the browser's: 200 with {@link VoiceTokenResponse}, or
 * an error reply. `signal` (the browser's request going away) cancels the call. Never rejects.
 */
export async function registerCall(settings: UpstreamSettings, request: TokenRequest, signal?: AbortSignal): Promise<Reply> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, settings.timeoutMs);
  const cancel = (): void => controller.abort();
  signal?.addEventListener('abort', cancel);
  // Settles once the call is given up (the timeout, or the browser going away), even when a `fetch` ignores its signal.
  const givenUp = new Promise<typeof NO_ANSWER>((resolve) => controller.signal.addEventListener('abort', () => resolve(NO_ANSWER)));
  try {
    let response: Response | typeof NO_ANSWER;
    try {
      const pending = new Promise<Response>((resolve) =>
        resolve(
          settings.fetch(settings.registerCallUrl, {
            method: 'POST',
            headers: {
              Authorization: `Bearer ${settings.apiKey}`,
              'Content-Type': 'application/json',
              Accept: 'application/json',
            },
            body: JSON.stringify(request),
            signal: controller.signal,
            // Cloudflare Workers support only `follow` and `manual`; a redirect is refused below either way.
            redirect: 'manual',
          }),
        ),
      );
      // The race handles `pending`: a fetch that fails after the call was given up is no unhandled rejection.
      response = await Promise.race([pending, givenUp]);
    } catch {
      response = NO_ANSWER;
    }
    if (response === NO_ANSWER) {
      return timedOut ? timeout(settings) : failure(502, 'upstream_unreachable', 'The agent service could not be reached.');
    }
    const text = await readText(response.body, MAX_UPSTREAM_BYTES, controller.signal);
    if (timedOut) return timeout(settings);
    if (response.status < 200 || response.status > 299) {
      return rejection(response.status, text.ok ? text.text : '', response.headers.get('retry-after'));
    }
    return accepted(settings, text.ok ? parseJsonObject(text.text) : undefined);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', cancel);
  }
}

function timeout(settings: UpstreamSettings): Reply {
  return failure(504, 'upstream_timeout', `The agent service did not answer within ${settings.timeoutMs} ms.`);
}

/** A 2xx answer: Atoms wraps the token in `data`; a flat answer is accepted too. */
function accepted(settings: UpstreamSettings, json: Record<string, unknown> | undefined): Reply {
  const data = isPlainObject(json?.['data']) ? json['data'] : json;
  const token = data?.['access_token'];
  if (typeof token !== 'string' || token.length === 0 || token.length > 4096 || /^sk_/i.test(token) || token.includes(settings.apiKey)) {
    return failure(502, 'upstream_invalid_response', 'The agent service did not return a usable token.');
  }
  const expiresIn = data?.['expires_in'];
  const sampleRate = data?.['sample_rate'];
  const body: VoiceTokenResponse = {
    access_token: token,
    expires_in: typeof expiresIn === 'number' && expiresIn > 0 && Number.isFinite(expiresIn) ? expiresIn : DEFAULT_EXPIRES_IN,
    sample_rate: typeof sampleRate === 'number' && Number.isInteger(sampleRate) && sampleRate > 0 ? sampleRate : DEFAULT_SAMPLE_RATE,
    ...(settings.connectUrl !== undefined && { url: settings.connectUrl }),
  };
  return { status: 200, body };
}

/**
 * A non-2xx answer, as an error that names its status and what to check. The upstream body is only
 * looked at to tell "no credits" from other 400s; it is never passed on.
 */
function rejection(status: number, text: string, retryAfter: string | null): Reply {
  if (status === 402 || (status === 400 && NO_CREDITS.test(text))) {
    return failure(502, 'upstream_no_credits', `The agent service refused for lack of credits (HTTP ${status}): top up the account.`);
  }
  switch (status) {
    case 400:
      return failure(502, 'upstream_bad_request', 'The agent service rejected the token request (HTTP 400): check the agent id, mode and variables.');
    case 401:
    case 403:
      return failure(502, 'upstream_unauthorized', `The agent service rejected the server's API key (HTTP ${status}): check the key the token endpoint uses.`);
    case 404:
      return failure(502, 'upstream_agent_not_found', 'The agent service does not know this agent (HTTP 404): check the agent id.');
    case 429: {
      const wait = validRetryAfter(retryAfter);
      return failure(503, 'upstream_rate_limited', 'The agent service is rate limiting token requests (HTTP 429): try again later.', wait ? { 'Retry-After': wait } : undefined);
    }
    default:
      return status >= 500
        ? failure(502, 'upstream_failed', `The agent service failed (HTTP ${status}): try again later.`)
        : failure(502, 'upstream_failed', `The agent service answered an unexpected HTTP ${status}.`);
  }
}

/** A `Retry-After` value worth passing on: delay-seconds or an HTTP date. */
function validRetryAfter(value: string | null): string | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  if (/^\d{1,9}$/.test(trimmed)) return trimmed;
  return /^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(trimmed) && !Number.isNaN(Date.parse(trimmed)) ? trimmed : undefined;
}
