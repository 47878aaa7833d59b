/**
 * Small HTTP and request-validation helpers shared by the token handler and the local agent.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { CallVariables } from './call-types.js';

/** A request body read by {@link readBody}. */
export type BodyResult = { ok: true; text: string } | { ok: false; reason: 'too_large' | 'aborted' };

/**
 * Reads a request body as UTF-8, up to `limitBytes`. A larger body (declared or actual) resolves as
 * `too_large` at once, and the rest of it is drained so the connection can still carry the answer.
 * Never rejects.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    if (req.destroyed) {
      resolve({ ok: false, reason: 'aborted' });
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (declared > limitBytes) {
      req.resume();
      resolve({ ok: false, reason: 'too_large' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (result: BodyResult): void => {
      req.off('data', onData).off('end', onEnd).off('error', onAborted).off('close', onAborted);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) {
        settle({ ok: false, reason: 'too_large' });
        req.resume();
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => settle({ ok: true, text: Buffer.concat(chunks).toString('utf8') });
    const onAborted = (): void => settle({ ok: false, reason: 'aborted' });
    req.on('data', onData).on('end', onEnd).on('error', onAborted).on('close', onAborted);
  });
}

/**
 * Sends `body` as a JSON response that is never cached or sniffed. Does nothing once a response has
 * been sent or the connection is gone.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  if (res.headersSent || res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(payload);
}

/** The parsed JSON text if it is an object (not an array or null), else `undefined`. */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `value` is a JSON-style object: not null, not an array. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The credential of an `Authorization: Bearer …` header, if there is one. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return match?.[1];
}

/** Compares two secrets in constant time (hashing first, so their lengths do not leak either). */
export function secretsEqual(given: string, expected: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Limits for {@link validateVariables}. */
export interface VariableLimits {
  maxKeys: number;
  maxKeyLength: number;
  maxStringLength: number;
}

/**
 * Checks per-call variables: an object of at most `maxKeys` entries with non-empty keys and string,
 * finite number or boolean values. Returns a copy, or an error message naming the first problem.
 */
export function validateVariables(
  value: unknown,
  limits: VariableLimits,
): { ok: true; variables: CallVariables } | { ok: false; message: string } {
  if (!isPlainObject(value)) return { ok: false, message: 'variables must be an object' };
  const entries = Object.entries(value);
  if (entries.length > limits.maxKeys) return { ok: false, message: `variables may have at most ${limits.maxKeys} keys` };
  for (const [key, item] of entries) {
    if (key.length === 0 || key.length > limits.maxKeyLength) {
      return { ok: false, message: `variable names must be 1 to ${limits.maxKeyLength} characters long` };
    }
    const usable =
      (typeof item === 'string' && item.length <= limits.maxStringLength) ||
      (typeof item === 'number' && Number.isFinite(item)) ||
      typeof item === 'boolean';
    if (!usable) {
      return {
        ok: false,
        message: `variable "${key.slice(0, 64)}" must be a string of at most ${limits.maxStringLength} characters, a finite number or a boolean`,
      };
    }
  }
  // fromEntries defines own properties, so a "__proto__" key stays an ordinary variable.
  return { ok: true, variables: Object.fromEntries(entries) as CallVariables };
}
