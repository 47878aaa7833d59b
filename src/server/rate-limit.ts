/**
 * Per-client rate limiting for the token handler: a fixed window counted in a pluggable store (in
 * memory by default; Redis or a KV store when the endpoint runs on many instances), and the client key
 * each request is counted under.
 */
import { failure } from './reply.js';
import type { Reply } from './reply.js';

/** One counted request: how many the client has made in the current window, and when that window ends. */
export interface RateLimitHit {
  /** Requests counted in the current window, this one included. */
  count: number;
  /** When the current window ends, in milliseconds since the epoch. */
  resetAt: number;
}

/**
 * Where request counts live. `hit` counts one request for `key` in a fixed window of `windowMs` (the
 * window starts at the key's first request and ends `windowMs` later) and answers the count so far and
 * when the window ends. With Redis, for example: `INCR key`, then `PEXPIRE key windowMs NX`, then
 * `PTTL key` for `resetAt = Date.now() + ttl`. Counting must be atomic across instances.
 */
export interface RateLimitStore {
  hit(key: string, windowMs: number): RateLimitHit | Promise<RateLimitHit>;
}

/** Rate limiting for {@link createTokenHandler}'s `rateLimit` option. */
export interface RateLimitOptions {
  /** Requests one client may make per window. Default 30. */
  limit?: number;
  /** The window, in ms. Default 60000 (a minute). */
  windowMs?: number;
  /** Where counts are kept. Default: a new {@link MemoryRateLimitStore}, which counts per process only. */
  store?: RateLimitStore;
  /**
   * The key a request is counted under (an IP address, a session id…). Default: the client address
   * (see `trustProxy`). A request whose key is `undefined` or empty is counted under the shared key
   * `unknown`.
   */
  clientKey?: (request: Request) => string | undefined | Promise<string | undefined>;
  /**
   * How many proxies in front of the server append to `X-Forwarded-For` (`true` = 1). The client is then
   * the address that many entries from the right. Leave it unset when clients connect directly: they can
   * write any `X-Forwarded-For` they like.
   */
  trustProxy?: boolean | number;
}

/** Settings for {@link MemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /** The most clients tracked at once; past it, the oldest windows are forgotten first. Default 10000. */
  maxKeys?: number;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/**
 * A {@link RateLimitStore} in this process's memory: right for one server, not for many instances (each
 * would count on its own). Memory stays bounded: expired windows are dropped as new clients arrive, and
 * past `maxKeys` clients the oldest windows are forgotten. No timers, so it can be created at the top
 * level of a Cloudflare Worker.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, RateLimitHit>();
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    const { maxKeys = 10_000, now = Date.now } = options;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new Error('MemoryRateLimitStore: `maxKeys` must be a positive integer.');
    if (typeof now !== 'function') throw new Error('MemoryRateLimitStore: `now` must be a function.');
    this.maxKeys = maxKeys;
    this.now = now;
  }

  /** Counts one request for `key`; see {@link RateLimitStore.hit}. */
  hit(key: string, windowMs: number): RateLimitHit {
    const now = this.now();
    let window = this.windows.get(key);
    if (window !== undefined && window.resetAt <= now) {
      this.windows.delete(key);
      window = undefined;
    }
    if (window === undefined) {
      this.prune(now);
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count++;
    return { ...window };
  }

  /** How many clients are tracked now. */
  get size(): number {
    return this.windows.size;
  }

  /** Makes room for one more window. The map is in order of window start, so the oldest come first. */
  private prune(now: number): void {
    for (const [key, window] of this.windows) {
      if (this.windows.size < this.maxKeys && window.resetAt > now) return;
      this.windows.delete(key);
    }
  }
}

/** Client addresses known from the connection (set by `toNodeHandler` or {@link withClientAddress}). */
const clientAddresses = new WeakMap<Request, string>();

/**
 * Records the address a request came from, for runtimes that tell it beside the request rather than in a
 * header (Deno's `info.remoteAddr.hostname`, Bun's `server.requestIP(request).address`); the token
 * handler's default client key then uses it. Returns the request.
 *
 * @example
 * Deno.serve((request, info) => tokens(withClientAddress(request, info.remoteAddr.hostname)));
 */
export function withClientAddress(request: Request, address: string | undefined): Request {
  if (typeof address === 'string' && address !== '') clientAddresses.set(request, address);
  return request;
}

/** The rate limiter of one handler: answers a 429 (or 503) reply, or `undefined` to go on. */
export type RateLimiter = (request: Request) => Promise<Reply | undefined>;

/**
 * Builds the limiter for the `rateLimit` option: `undefined` (the defaults) or an object; `false` turns
 * limiting off.
 * @throws Error when an option is malformed.
 */
export function createRateLimiter(options: RateLimitOptions | false | undefined): RateLimiter | undefined {
  if (options === false) return undefined;
  const fail = (message: string): never => {
    throw new Error(`createTokenHandler: ${message}`);
  };
  if (options !== undefined && (typeof options !== 'object' || options === null)) fail('`rateLimit` must be an object or false.');
  const { limit = 30, windowMs = 60_000, store = new MemoryRateLimitStore(), clientKey, trustProxy = false } = options ?? {};
  if (!Number.isInteger(limit) || limit < 1) fail('`rateLimit.limit` must be a positive integer.');
  if (typeof windowMs !== 'number' || !(windowMs >= 1 && windowMs <= 2 ** 31 - 1)) fail('`rateLimit.windowMs` must be a positive number of milliseconds.');
  if (typeof store?.hit !== 'function') fail('`rateLimit.store` must have a `hit(key, windowMs)` method.');
  if (clientKey !== undefined && typeof clientKey !== 'function') fail('`rateLimit.clientKey` must be a function.');
  const hops = trustProxy === true ? 1 : trustProxy === false ? 0 : trustProxy;
  if (!Number.isInteger(hops) || hops < 0) fail('`rateLimit.trustProxy` must be a boolean or a number of proxies.');
  const keyOf = clientKey ?? ((request: Request) => defaultClientKey(request, hops));

  return async (request) => {
    const key = (await keyOf(request)) || 'unknown';
    let hit: RateLimitHit;
    try {
      hit = await store.hit(String(key), windowMs);
    } catch {
      return unavailable();
    }
    if (!Number.isFinite(hit?.count) || !Number.isFinite(hit?.resetAt)) return unavailable();
    if (hit.count <= limit) return undefined;
    const seconds = Math.max(1, Math.ceil((hit.resetAt - Date.now()) / 1000));
    return failure(429, 'rate_limited', `Too many token requests from this client: try again in ${seconds} s.`, { 'Retry-After': String(seconds) });
  };
}

function unavailable(): Reply {
  return failure(503, 'rate_limit_unavailable', 'The rate limiter could not count this request; try again shortly.');
}

/**
 * The default client key: with `trustProxy`, the `X-Forwarded-For` entry that many hops from the right;
 * else the connection's address when the runtime told it (`toNodeHandler`, {@link withClientAddress});
 * else the address a platform puts in `CF-Connecting-IP` (Cloudflare) or `X-Real-IP` (Vercel, nginx).
 * IPv6 addresses count per /64, the block one subscriber usually holds.
 */
function defaultClientKey(request: Request, hops: number): string | undefined {
  if (hops > 0) {
    const entries = (request.headers.get('x-forwarded-for') ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    const forwarded = entries[Math.max(0, entries.length - hops)];
    if (forwarded !== undefined) return addressKey(forwarded);
  }
  const address = clientAddresses.get(request) ?? request.headers.get('cf-connecting-ip') ?? request.headers.get('x-real-ip') ?? undefined;
  return address === undefined ? undefined : addressKey(address);
}

/** An address as a rate-limit key: IPv4 as it is (also when IPv4-mapped), IPv6 by its /64 prefix. */
function addressKey(address: string): string {
  let value = address.trim().toLowerCase();
  const bracketed = /^\[([^\]]+)\]/.exec(value);
  if (bracketed?.[1] !== undefined) value = bracketed[1];
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(value);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (!value.includes(':') || value.includes('.')) return value;
  value = value.replace(/%.*$/, '');
  const halves = value.split('::');
  if (halves.length > 2) return value;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return value;
  const groups = [...head, ...Array<string>(missing).fill('0'), ...tail];
  if (!groups.every((group) => /^[0-9a-f]{1,4}$/.test(group))) return value;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
