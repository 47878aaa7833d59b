/**
 * Fetch-API plumbing shared by the token handler's parts: the replies it builds, turning one into a
 * `Response`, and reading a body stream up to a size limit. Only Fetch-API globals, so it runs on Node,
 * Deno, Bun, Cloudflare Workers and Next.js alike.
 */

/** The stable `error.code` values of error responses (`{error: {code, message}}`). */
export type TokenErrorCode =
  /** 405: a method other than POST (or OPTIONS for a preflight). */
  | 'method_not_allowed'
  /** 403: the Origin is not on the allow-list (or missing, unless requests without one are allowed). */
  | 'origin_not_allowed'
  /** 429: this client asked for too many tokens; `Retry-After` says when to try again. */
  | 'rate_limited'
  /** 415: the body is not `application/json`. */
  | 'unsupported_media_type'
  /** 413: the body is larger than the handler reads. */
  | 'payload_too_large'
  /** 400: the body is not valid JSON, or `agent_id`, `mode` or `variables` are invalid or not allowed. */
  | 'invalid_request'
  /** 502: Atoms refused the server's API key (HTTP 401 or 403). */
  | 'upstream_unauthorized'
  /** 502: Atoms rejected the token request (HTTP 400). */
  | 'upstream_bad_request'
  /** 502: the Atoms account has no credits left (HTTP 402, or a 400 that says so). */
  | 'upstream_no_credits'
  /** 502: Atoms does not know the agent (HTTP 404). */
  | 'upstream_agent_not_found'
  /** 503: Atoms is rate limiting the account (HTTP 429); its `Retry-After` is passed on. */
  | 'upstream_rate_limited'
  /** 502: Atoms failed (HTTP 5xx) or answered an unexpected status, such as a redirect. */
  | 'upstream_failed'
  /** 502: Atoms could not be reached (DNS, connection, TLS). */
  | 'upstream_unreachable'
  /** 502: Atoms answered 2xx without a usable token (or with something that looks like a secret key). */
  | 'upstream_invalid_response'
  /** 504: Atoms did not answer within `timeoutMs`. */
  | 'upstream_timeout'
  /** 503: the rate limiter's store failed, so the request could not be counted. */
  | 'rate_limit_unavailable'
  /** 500: anything else. */
  | 'internal_error';

/** A response to send: a status, a JSON body (none for 204) and any extra headers. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** An error reply, `{error: {code, message}}`. */
export function failure(status: number, code: TokenErrorCode, message: string, headers?: Record<string, string>): Reply {
  return { status, body: { error: { code, message } }, ...(headers && { headers }) };
}

/** Builds the `Response` for a reply. A JSON body is never cached or sniffed. */
export function toResponse(reply: Reply, extraHeaders: Record<string, string>): Response {
  const headers = new Headers({ ...extraHeaders, ...reply.headers });
  if (reply.body === undefined) return new Response(null, { status: reply.status, headers });
  headers.set('Content-Type', 'application/json; charset=utf-8');
  headers.set('Cache-Control', 'no-store');
  headers.set('X-Content-Type-Options', 'nosniff');
  return new Response(JSON.stringify(reply.body), { status: reply.status, headers });
}

/** A body read by {@link readText}. */
export type TextResult = { ok: true; text: string } | { ok: false; reason: 'too_large' | 'unreadable' };

/**
 * Reads a body stream as UTF-8 text, up to `limitBytes`. It stops (and cancels the stream) as soon as
 * more arrived, so an endless or lying body costs at most `limitBytes` plus one chunk. `unreadable`: the
 * stream failed (the client went away) or the bytes are not UTF-8. When `signal` aborts, the stream is
 * cancelled, which ends the read at once even if its source never answers (the caller knows why it
 * aborted and what the text is worth). Never rejects.
 */
export async function readText(body: ReadableStream<Uint8Array> | null, limitBytes: number, signal?: AbortSignal): Promise<TextResult> {
  if (body === null) return { ok: true, text: '' };
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = body.getReader();
  } catch {
    return { ok: false, reason: 'unreadable' };
  }
  // Cancelling ends a pending read at once, whatever the stream's source does.
  const stop = (): void => void reader.cancel().catch(() => {});
  signal?.addEventListener('abort', stop);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limitBytes) {
        reader.cancel().catch(() => {});
        return { ok: false, reason: 'too_large' };
      }
      chunks.push(value);
    }
  } catch {
    return { ok: false, reason: 'unreadable' };
  } finally {
    signal?.removeEventListener('abort', stop);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { ok: false, reason: 'unreadable' };
  }
}
