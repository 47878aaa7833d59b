/**
 * The token endpoint a site mounts on its own backend: it keeps the secret `sk_` key on the server and
 * hands the browser a short-lived, single-use `wct_` token minted by Atoms
 * (`POST /atoms/v1/conversation/register-call`). A Fetch-API handler, `(Request) => Promise<Response>`,
 * with no imports beyond this folder: it runs unchanged in Next.js route handlers, Cloudflare Workers,
 * Deno, Bun and Node 20 (through `toNodeHandler`).
 */
import { registerCall } from './register-call.js';
import type { FetchFunction, TokenRequest, UpstreamSettings } from './register-call.js';
import { createRateLimiter } from './rate-limit.js';
import type { RateLimiter, RateLimitOptions } from './rate-limit.js';
import { failure, readText, toResponse } from './reply.js';
import type { Reply } from './reply.js';
import { isPlainObject, parseJsonObject, validateVariables } from './validation.js';
import type { CallMode } from './validation.js';

/** Settings for {@link createTokenHandler}. */
export interface TokenHandlerOptions {
  /** The secret `sk_` API key. Only ever sent to `upstream`; never logged, never returned to the browser. */
  apiKey: string;
  /** Mint tokens only for this agent: a request's `agent_id` must equal it or be absent. Not with `allowAgentIds`. */
  agentId?: string;
  /**
   * Mint tokens only for these agents: a request's `agent_id` must be one of them (it may be absent when
   * there is only one). Not with `agentId`. Without either, any well-formed `agent_id` is accepted.
   */
  allowAgentIds?: readonly string[];
  /** Exact origins (`scheme://host[:port]`) whose pages may call the endpoint. */
  allowedOrigins: readonly string[];
  /** Accept requests that carry no `Origin` header (server-to-server callers). Default false: they get 403. */
  allowRequestsWithoutOrigin?: boolean;
  /** The call modes tokens may be minted for. Default both, `['webcall', 'chat']`. */
  modes?: readonly CallMode[];
  /**
   * Per-client rate limiting (see {@link RateLimitOptions}); `false` turns it off. Default: 30 requests a
   * minute per client, counted in this process's memory.
   */
  rateLimit?: RateLimitOptions | false;
  /** The Atoms REST base. Default `https://api.smallest.ai/atoms/v1`. */
  upstream?: string;
  /** The former name of `upstream`, still accepted. */
  baseUrl?: string;
  /** A WebSocket URL to return to the browser as `url` (e.g. a local agent's); when unset the element uses its default. */
  connectUrl?: string;
  /** The fetch implementation used to reach Atoms. Default: the global `fetch`. */
  fetch?: FetchFunction;
  /** How long to wait for Atoms, in ms. Default 10000. */
  timeoutMs?: number;
}

/**
 * The token endpoint: a Fetch-API handler that answers every request itself and never rejects.
 * `maxBodyBytes` is the most of a request body it reads (`toNodeHandler` reads no more either).
 */
export interface TokenHandler {
  (request: Request): Promise<Response>;
  readonly maxBodyBytes: number;
}

const DEFAULT_UPSTREAM = 'https://api.smallest.ai/atoms/v1';
const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 8 * 1024;
const CALL_MODES: readonly CallMode[] = ['webcall', 'chat'];
const AGENT_ID = /^[A-Za-z0-9_\-:.]{1,128}$/;
const AGENT_ID_RULE = '1 to 128 characters from A-Z, a-z, 0-9, "_", "-", ":" and "."';
const VARIABLE_LIMITS = { maxKeys: 32, maxKeyLength: 64, maxStringLength: 1000 } as const;

interface HandlerConfig {
  upstream: UpstreamSettings;
  /** The agents tokens may be minted for; `undefined`: any. */
  agentIds: ReadonlySet<string> | undefined;
  /** The agent used when a request names none. */
  defaultAgentId: string | undefined;
  modes: ReadonlySet<CallMode>;
  defaultMode: CallMode;
  allowedOrigins: ReadonlySet<string>;
  allowRequestsWithoutOrigin: boolean;
  rateLimit: RateLimiter | undefined;
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
 * Creates the token endpoint. Mount it on a POST route (e.g. `/api/voice-token`) of the site's backend:
 * `export const POST = tokens` (and `OPTIONS`, for cross-origin pages) in a Next.js route handler,
 * `fetch: tokens` in a Worker or Bun, `Deno.serve(tokens)`, or `toNodeHandler(tokens)` for Node's `http`
 * and Express.
 *
 * The browser POSTs `{agent_id?, mode?, variables?}` as JSON from an allowed origin; the handler checks
 * the rate limit, validates the request, calls Atoms `register-call` with the secret key and answers 200
 * `{access_token, expires_in, sample_rate, url?}` (`Cache-Control: no-store`). Failures answer
 * `{error: {code, message}}` with a {@link TokenErrorCode}; upstream bodies are never passed on.
 *
 * @example
 * const tokens = createTokenHandler({
 *   apiKey: process.env.ATOMS_API_KEY,
 *   agentId: process.env.ATOMS_AGENT_ID,
 *   allowedOrigins: ['https://www.example.com'],
 * });
 * const response = await tokens(request);
 *
 * @throws Error when an option is missing or malformed.
 */
export function createTokenHandler(options: TokenHandlerOptions): TokenHandler {
  const config = resolveConfig(options);
  const handler = async (request: Request): Promise<Response> => {
    let origin: string | undefined;
    let reply: Reply;
    try {
      origin = request.headers.get('origin') ?? undefined;
      reply = await handle(config, request, origin);
    } catch {
      reply = failure(500, 'internal_error', 'The token endpoint failed unexpectedly.');
    }
    return toResponse(reply, corsHeaders(config, origin));
  };
  return Object.defineProperty(handler, 'maxBodyBytes', { value: MAX_BODY_BYTES, enumerable: true }) as TokenHandler;
}

/** Works out the answer to one request. */
async function handle(config: HandlerConfig, request: Request, origin: string | undefined): Promise<Reply> {
  if (request.method !== 'POST' && request.method !== 'OPTIONS') {
    return failure(405, 'method_not_allowed', 'Use POST.', { Allow: 'POST, OPTIONS' });
  }
  if (!originAllowed(config, origin)) {
    return failure(403, 'origin_not_allowed', 'This origin may not request voice tokens.');
  }
  if (request.method === 'OPTIONS') return PREFLIGHT;

  const limited = await config.rateLimit?.(request);
  if (limited) return limited;

  const mediaType = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    return failure(415, 'unsupported_media_type', 'Send the request as Content-Type: application/json.');
  }
  const tooLarge = (): Reply => failure(413, 'payload_too_large', `The request body must be at most ${MAX_BODY_BYTES} bytes.`);
  if (Number(request.headers.get('content-length')) > MAX_BODY_BYTES) return tooLarge();
  const body = await readText(request.body, MAX_BODY_BYTES);
  if (!body.ok) {
    return body.reason === 'too_large' ? tooLarge() : failure(400, 'invalid_request', 'The request body could not be read as UTF-8.');
  }
  const tokenRequest = parseTokenRequest(config, body.text);
  if ('error' in tokenRequest) return failure(400, 'invalid_request', tokenRequest.error);
  return registerCall(config.upstream, tokenRequest, request.signal);
}

function parseTokenRequest(config: HandlerConfig, text: string): TokenRequest | { error: string } {
  const json = parseJsonObject(text);
  if (!json) return { error: 'The request body must be a JSON object.' };

  const agentId = json['agent_id'] ?? config.defaultAgentId;
  if (agentId === undefined) return { error: 'agent_id is required.' };
  if (typeof agentId !== 'string' || !AGENT_ID.test(agentId)) return { error: `agent_id must be ${AGENT_ID_RULE}.` };
  if (config.agentIds !== undefined && !config.agentIds.has(agentId)) return { error: 'agent_id is not available here.' };

  const mode = json['mode'] ?? config.defaultMode;
  if (mode !== 'webcall' && mode !== 'chat') return { error: 'mode must be "webcall" or "chat".' };
  if (!config.modes.has(mode)) return { error: `mode "${mode}" is not available here.` };

  const variables = validateVariables(json['variables'] ?? {}, VARIABLE_LIMITS);
  if (!variables.ok) return { error: `${variables.message}.` };
  return { agent_id: agentId, mode, variables: variables.variables };
}

function originAllowed(config: HandlerConfig, origin: string | undefined): boolean {
  return origin === undefined ? config.allowRequestsWithoutOrigin : config.allowedOrigins.has(origin);
}

/** CORS headers for an allowed cross-origin caller; every answer varies by Origin. */
function corsHeaders(config: HandlerConfig, origin: string | undefined): Record<string, string> {
  return origin !== undefined && config.allowedOrigins.has(origin)
    ? { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': 'Retry-After', Vary: 'Origin' }
    : { Vary: 'Origin' };
}

function resolveConfig(options: TokenHandlerOptions): HandlerConfig {
  const fail = (message: string): never => {
    throw new Error(`createTokenHandler: ${message}`);
  };
  if (!isPlainObject(options)) fail('options are required.');
  const { apiKey, agentId, allowAgentIds, allowedOrigins, allowRequestsWithoutOrigin = false, modes = CALL_MODES } = options;
  const { upstream, baseUrl, connectUrl, fetch: fetchOption, timeoutMs = DEFAULT_TIMEOUT_MS } = options;

  if (typeof apiKey !== 'string' || apiKey.trim() === '') fail('`apiKey` must be a non-empty string (the secret Atoms API key).');
  // Option errors end up in logs: a value that holds a key (say, the wrong variable) is not echoed.
  const shown = (value: unknown): string => (holdsKey(String(JSON.stringify(value)), apiKey) ? 'that looks like a secret sk_ key' : JSON.stringify(value));
  if (agentId !== undefined && allowAgentIds !== undefined) fail('give `agentId` or `allowAgentIds`, not both.');
  if (agentId !== undefined && (typeof agentId !== 'string' || !AGENT_ID.test(agentId))) fail(`\`agentId\` must be ${AGENT_ID_RULE}.`);
  if (allowAgentIds !== undefined) {
    if (!Array.isArray(allowAgentIds) || allowAgentIds.length === 0) fail('`allowAgentIds` must be a non-empty array of agent ids.');
    for (const id of allowAgentIds) {
      if (typeof id !== 'string' || !AGENT_ID.test(id)) fail(`allowAgentIds entry ${shown(id)} must be ${AGENT_ID_RULE}.`);
    }
  }
  if (!Array.isArray(modes) || modes.length === 0 || !modes.every((mode) => CALL_MODES.includes(mode))) {
    fail('`modes` must be a non-empty array of "webcall" and/or "chat".');
  }
  if (!Array.isArray(allowedOrigins)) fail('`allowedOrigins` must be an array of origins such as "https://example.com".');
  for (const origin of allowedOrigins) {
    if (typeof origin !== 'string' || parseUrl(origin)?.origin !== origin) {
      fail(`allowedOrigins entry ${shown(origin)} is not an exact origin (scheme://host[:port], no path or trailing slash).`);
    }
  }
  if (allowedOrigins.length === 0 && !allowRequestsWithoutOrigin) fail('`allowedOrigins` is empty, so no caller could ever be served.');
  if (upstream !== undefined && baseUrl !== undefined && upstream !== baseUrl) fail('`baseUrl` is the former name of `upstream`: give one of them.');
  const restBase = upstream ?? baseUrl ?? DEFAULT_UPSTREAM;
  const base = typeof restBase === 'string' ? parseUrl(restBase) : undefined;
  if (!base || (base.protocol !== 'https:' && base.protocol !== 'http:')) fail('`upstream` must be an http(s) URL.');
  if (connectUrl !== undefined && !/^wss?:$/.test(parseUrl(String(connectUrl))?.protocol ?? '')) fail('`connectUrl` must be a ws:// or wss:// URL.');
  // connectUrl is handed to every browser as `url`.
  if (connectUrl !== undefined && holdsKey(String(connectUrl), apiKey)) fail('`connectUrl` must not carry a secret sk_ key: it is sent to the browser.');
  if (fetchOption !== undefined && typeof fetchOption !== 'function') fail('`fetch` must be a function.');
  if (fetchOption === undefined && typeof globalThis.fetch !== 'function') fail('no `fetch` is available; pass one in the options.');
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0 && timeoutMs <= 2 ** 31 - 1)) fail('`timeoutMs` must be a positive number of milliseconds.');
  const rateLimit = createRateLimiter(options.rateLimit);

  const agentIds = agentId !== undefined ? [agentId] : allowAgentIds;
  return {
    upstream: {
      apiKey,
      registerCallUrl: `${base!.href.replace(/\/+$/, '')}/conversation/register-call`,
      connectUrl,
      // Called as a plain function: Workers refuse `fetch` called as a method of another object.
      fetch: fetchOption ?? ((url, init) => globalThis.fetch(url, init)),
      timeoutMs,
    },
    agentIds: agentIds && new Set(agentIds),
    defaultAgentId: agentIds?.length === 1 ? agentIds[0] : undefined,
    modes: new Set(modes),
    defaultMode: modes.includes('webcall') ? 'webcall' : 'chat',
    allowedOrigins: new Set(allowedOrigins),
    allowRequestsWithoutOrigin: allowRequestsWithoutOrigin === true,
    rateLimit,
  };
}

/** Whether `text` holds the key, or something shaped like one (`sk_` at the start of a word), in any letter case. */
function holdsKey(text: string, apiKey: string): boolean {
  const lower = text.toLowerCase();
  return lower.includes(apiKey.trim().toLowerCase()) || /(?:^|[^a-z0-9])sk_/.test(lower);
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
