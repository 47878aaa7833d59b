/**
 * The token endpoint a site mounts on its own backend: it keeps the secret `sk_` key on the server and
 * hands the browser a short-lived, single-use `wct_` token minted by Atoms
 * (`POST /atoms/v1/conversation/register-call`).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { readBody, sendJson } from '../local-agent/http-util.js';
import { isPlainObject, parseJsonObject, validateVariables } from './validation.js';
import type { CallVariables } from './validation.js';

/** Settings for {@link createTokenHandler}. */
export interface TokenHandlerOptions {
  /** The secret `sk_` API key. Only ever sent to `baseUrl`; never logged, never returned to the browser. */
  apiKey: string;
  /** When set, tokens are minted only for this agent: a request's `agent_id` must equal it or be absent. */
  agentId?: string;
  /** Exact origins (`scheme://host[:port]`) whose pages may call the endpoint. */
  allowedOrigins: readonly string[];
  /** Accept requests that carry no `Origin` header (server-to-server callers). Default false: they get 403. */
  allowRequestsWithoutOrigin?: boolean;
  /** Atoms REST base. Default `https://api.smallest.ai/atoms/v1`. */
  baseUrl?: string;
  /** A WebSocket URL to return to the browser as `url` (e.g. a local agent's); when unset the element uses its default. */
  connectUrl?: string;
  /** The fetch implementation used to reach Atoms. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** How long to wait for Atoms, in ms. Default 10000. */
  timeoutMs?: number;
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

/** The stable `error.code` values of error responses (`{error: {code, message}}`). */
export type TokenErrorCode =
  | 'method_not_allowed'
  | 'origin_not_allowed'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'invalid_request'
  | 'upstream_failed'
  | 'upstream_timeout'
  | 'internal_error';

/** A Node request handler; it answers every request itself and never rejects. */
export type TokenHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const DEFAULT_BASE_URL = 'https://api.smallest.ai/atoms/v1';
const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 8 * 1024;
const AGENT_ID = /^[A-Za-z0-9_\-:.]{1,128}$/;
const VARIABLE_LIMITS = { maxKeys: 32, maxKeyLength: 64, maxStringLength: 1000 } as const;
/** What Atoms documents for `wct_` tokens, used when its answer leaves a field out. */
const DEFAULT_EXPIRES_IN = 30;
const DEFAULT_SAMPLE_RATE = 24_000;

interface HandlerConfig {
  apiKey: string;
  agentId: string | undefined;
  allowedOrigins: ReadonlySet<string>;
  allowRequestsWithoutOrigin: boolean;
  registerCallUrl: string;
  connectUrl: string | undefined;
  fetch: typeof fetch;
  timeoutMs: number;
}

interface TokenRequest {
  agent_id: string;
  mode: 'webcall' | 'chat';
  variables: CallVariables;
}

/** A response to send: a status, a JSON body (none for 204) and any extra headers. */
interface Reply {
  status: number;
  body?: unknown;
  headers?: OutgoingHttpHeaders;
}

/** The answer to an allowed CORS preflight (the origin headers are added like on every answer). */
const PREFLIGHT: Reply = {
  status: 204,
  headers: {
    'Access-Control-Allow-Methods': 'POST',
    'Access-Control-Allow-Headers': 'content-type',
    'Access-Control-Max-Age': '600',
  },
};

/**
 * Creates the token endpoint. Mount it on a POST route (e.g. `/api/voice-token`) of the site's backend.
 *
 * The browser POSTs `{agent_id?, mode?, variables?}` as JSON from an allowed origin; the handler
 * validates it, calls Atoms `register-call` with the secret key and answers 200
 * `{access_token, expires_in, sample_rate, url?}` (`Cache-Control: no-store`). Failures answer
 * `{error: {code, message}}` with a {@link TokenErrorCode}; upstream bodies are never passed on.
 *
 * @throws Error when an option is missing or malformed.
 */
export function createTokenHandler(options: TokenHandlerOptions): TokenHandler {
  const config = resolveConfig(options);
  return async (req, res) => {
    const cors = corsHeaders(config, req.headers.origin);
    let reply: Reply | undefined;
    try {
      reply = await handle(config, req);
    } catch {
      reply = failure(500, 'internal_error', 'The token endpoint failed unexpectedly.');
    }
    if (reply) respond(res, reply, cors);
  };
}

function respond(res: ServerResponse, reply: Reply, cors: OutgoingHttpHeaders): void {
  const headers = { ...cors, ...reply.headers };
  if (reply.body !== undefined) {
    sendJson(res, reply.status, reply.body, headers);
  } else if (!res.headersSent && !res.destroyed) {
    res.writeHead(reply.status, headers).end();
  }
}

/** Works out the answer to one request; `undefined` when the caller went away before it was complete. */
async function handle(config: HandlerConfig, req: IncomingMessage): Promise<Reply | undefined> {
  if (req.method !== 'POST' && req.method !== 'OPTIONS') {
    return failure(405, 'method_not_allowed', 'Use POST.', { Allow: 'POST, OPTIONS' });
  }
  if (!originAllowed(config, req.headers.origin)) {
    return failure(403, 'origin_not_allowed', 'This origin may not request voice tokens.');
  }
  if (req.method === 'OPTIONS') return PREFLIGHT;

  const mediaType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    return failure(415, 'unsupported_media_type', 'Send the request as Content-Type: application/json.');
  }
  const body = await readBody(req, MAX_BODY_BYTES);
  if (!body.ok) {
    if (body.reason === 'aborted') return undefined;
    return failure(413, 'payload_too_large', `The request body must be at most ${MAX_BODY_BYTES} bytes.`, { Connection: 'close' });
  }
  const request = parseTokenRequest(config, body.text);
  if ('error' in request) return failure(400, 'invalid_request', request.error);
  return mint(config, request);
}

function parseTokenRequest(config: HandlerConfig, text: string): TokenRequest | { error: string } {
  const json = parseJsonObject(text);
  if (!json) return { error: 'The request body must be a JSON object.' };

  const agentId = json['agent_id'] ?? config.agentId;
  if (agentId === undefined) return { error: 'agent_id is required.' };
  if (typeof agentId !== 'string' || !AGENT_ID.test(agentId)) {
    return { error: 'agent_id must be 1 to 128 characters from A-Z, a-z, 0-9, "_", "-", ":" and ".".' };
  }
  if (config.agentId !== undefined && agentId !== config.agentId) return { error: 'agent_id is not available here.' };

  const mode = json['mode'] ?? 'webcall';
  if (mode !== 'webcall' && mode !== 'chat') return { error: 'mode must be "webcall" or "chat".' };

  const variables = validateVariables(json['variables'] ?? {}, VARIABLE_LIMITS);
  if (!variables.ok) return { error: `${variables.message}.` };
  return { agent_id: agentId, mode, variables: variables.variables };
}

/** Asks Atoms for a token and turns its answer into ours. */
async function mint(config: HandlerConfig, request: TokenRequest): Promise<Reply> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, config.timeoutMs);
  let status: number;
  let text: string;
  try {
    const response = await config.fetch(config.registerCallUrl, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${config.apiKey}`,
        'Content-Type': 'application/json',
        Accept: 'application/json',
      },
      body: JSON.stringify(request),
      signal: controller.signal,
      redirect: 'error',
    });
    status = response.status;
    text = await response.text();
  } catch {
    if (timedOut) return failure(504, 'upstream_timeout', `The agent service did not answer within ${config.timeoutMs} ms.`);
    return failure(502, 'upstream_failed', 'The agent service could not be reached.');
  } finally {
    clearTimeout(timer);
  }

  if (status < 200 || status > 299) return failure(502, 'upstream_failed', upstreamRejection(status));
  const json = parseJsonObject(text);
  // Atoms wraps the token in `data`; a flat answer is accepted too.
  const data = isPlainObject(json?.['data']) ? json['data'] : json;
  const token = data?.['access_token'];
  if (typeof token !== 'string' || token.length === 0 || token.length > 4096 || /^sk_/i.test(token) || token === config.apiKey) {
    return failure(502, 'upstream_failed', 'The agent service did not return a usable token.');
  }
  const expiresIn = data?.['expires_in'];
  const sampleRate = data?.['sample_rate'];
  const body: VoiceTokenResponse = {
    access_token: token,
    expires_in: typeof expiresIn === 'number' && expiresIn > 0 && Number.isFinite(expiresIn) ? expiresIn : DEFAULT_EXPIRES_IN,
    sample_rate: typeof sampleRate === 'number' && Number.isInteger(sampleRate) && sampleRate > 0 ? sampleRate : DEFAULT_SAMPLE_RATE,
    ...(config.connectUrl !== undefined && { url: config.connectUrl }),
  };
  return { status: 200, body };
}

/** A message for a non-2xx answer from Atoms that names its status but never repeats its body. */
function upstreamRejection(status: number): string {
  switch (status) {
    case 400:
      return 'The agent service rejected the token request (HTTP 400): check the agent id and the account credits.';
    case 401:
    case 403:
      return `The agent service rejected the server's API key (HTTP ${status}).`;
    case 404:
      return 'The agent service does not know this agent (HTTP 404).';
    case 429:
      return 'The agent service is rate limiting token requests (HTTP 429).';
    default:
      return `The agent service failed (HTTP ${status}).`;
  }
}

function failure(status: number, code: TokenErrorCode, message: string, headers?: OutgoingHttpHeaders): Reply {
  return { status, body: { error: { code, message } }, ...(headers && { headers }) };
}

function originAllowed(config: HandlerConfig, origin: string | undefined): boolean {
  return origin === undefined ? config.allowRequestsWithoutOrigin : config.allowedOrigins.has(origin);
}

/** CORS headers for an allowed cross-origin caller; every answer varies by Origin. */
function corsHeaders(config: HandlerConfig, origin: string | undefined): OutgoingHttpHeaders {
  return origin !== undefined && config.allowedOrigins.has(origin) ? { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' } : { Vary: 'Origin' };
}

function resolveConfig(options: TokenHandlerOptions): HandlerConfig {
  if (!isPlainObject(options)) throw new Error('createTokenHandler: options are required.');
  const { apiKey, agentId, allowedOrigins, allowRequestsWithoutOrigin = false } = options;
  const { baseUrl = DEFAULT_BASE_URL, connectUrl, fetch: fetchImpl = globalThis.fetch, timeoutMs = DEFAULT_TIMEOUT_MS } = options;

  if (typeof apiKey !== 'string' || apiKey.trim() === '') {
    throw new Error('createTokenHandler: `apiKey` must be a non-empty string (the secret Atoms API key).');
  }
  if (agentId !== undefined && (typeof agentId !== 'string' || !AGENT_ID.test(agentId))) {
    throw new Error('createTokenHandler: `agentId` must be 1 to 128 characters from A-Z, a-z, 0-9, "_", "-", ":" and ".".');
  }
  if (!Array.isArray(allowedOrigins)) {
    throw new Error('createTokenHandler: `allowedOrigins` must be an array of origins such as "https://example.com".');
  }
  for (const origin of allowedOrigins) {
    if (typeof origin !== 'string' || parseUrl(origin)?.origin !== origin) {
      throw new Error(`createTokenHandler: allowedOrigins entry ${JSON.stringify(origin)} is not an exact origin (scheme://host[:port], no path or trailing slash).`);
    }
  }
  if (allowedOrigins.length === 0 && !allowRequestsWithoutOrigin) {
    throw new Error('createTokenHandler: `allowedOrigins` is empty, so no caller could ever be served.');
  }
  const base = typeof baseUrl === 'string' ? parseUrl(baseUrl) : undefined;
  if (!base || (base.protocol !== 'https:' && base.protocol !== 'http:')) {
    throw new Error('createTokenHandler: `baseUrl` must be an http(s) URL.');
  }
  if (connectUrl !== undefined && !/^wss?:$/.test(parseUrl(String(connectUrl))?.protocol ?? '')) {
    throw new Error('createTokenHandler: `connectUrl` must be a ws:// or wss:// URL.');
  }
  if (typeof fetchImpl !== 'function') throw new Error('createTokenHandler: no `fetch` is available; pass one in the options.');
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0 && timeoutMs <= 2 ** 31 - 1)) {
    throw new Error('createTokenHandler: `timeoutMs` must be a positive number of milliseconds.');
  }
  return {
    apiKey,
    agentId,
    allowedOrigins: new Set(allowedOrigins),
    allowRequestsWithoutOrigin: allowRequestsWithoutOrigin === true,
    registerCallUrl: `${base.href.replace(/\/+$/, '')}/conversation/register-call`,
    connectUrl,
    fetch: fetchImpl,
    timeoutMs,
  };
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
