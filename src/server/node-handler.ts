/**
 * `toNodeHandler`: a Fetch-API handler as a Node `http` / Express request listener. It uses only type
 * imports from `node:http` and the Fetch-API globals, so the module still loads on any runtime.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { withClientAddress } from './rate-limit.js';

/** A Fetch-API request handler, such as the one `createTokenHandler` returns. */
export type FetchHandler = (request: Request) => Promise<Response>;

/** A Node `http` / Express request listener; the promise settles when the answer is sent and never rejects. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Settings for {@link toNodeHandler}. */
export interface NodeHandlerOptions {
  /**
   * The most of a request body passed on to the handler; reading stops past it. Default: the handler's
   * own `maxBodyBytes` (a token handler's), else 1 MiB.
   */
  maxBodyBytes?: number;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Adapts a Fetch-API handler for Node's `http` server and Express: `createServer(toNodeHandler(tokens))`
 * or `app.post('/api/voice-token', toNodeHandler(tokens))`.
 *
 * The request body is streamed to the handler and reading stops once it passes the size limit (the rest
 * is discarded and the connection closed after the answer). The handler gets an `AbortSignal` that fires
 * when the client goes away, and the connection's address for its rate limit. A body already read by a
 * body parser (`express.json()`) is taken from `req.body`. The listener never throws: a handler that
 * fails answers 500, and nothing is written to a client that has gone.
 *
 * @throws Error when `maxBodyBytes` is not a positive integer.
 */
export function toNodeHandler(handler: FetchHandler, options: NodeHandlerOptions = {}): NodeHandler {
  if (typeof handler !== 'function') throw new Error('toNodeHandler: `handler` must be a function.');
  const own = (handler as Partial<{ maxBodyBytes: unknown }>).maxBodyBytes;
  const limit = options.maxBodyBytes ?? (typeof own === 'number' ? own : DEFAULT_MAX_BODY_BYTES);
  if (!Number.isInteger(limit) || limit < 1) throw new Error('toNodeHandler: `maxBodyBytes` must be a positive integer.');

  return async (req, res) => {
    const gone = new AbortController();
    const onClose = (): void => {
      if (!res.writableFinished) gone.abort();
    };
    res.once('close', onClose);
    const body = requestBody(req, limit);
    try {
      let response: Response;
      try {
        const request = new Request(requestUrl(req), {
          method: req.method ?? 'GET',
          headers: requestHeaders(req),
          signal: gone.signal,
          ...(body.stream && { body: body.stream, duplex: 'half' }),
        } as RequestInit);
        withClientAddress(request, req.socket?.remoteAddress);
        response = await handler(request).catch(() => failed(500, 'internal_error', 'The endpoint failed unexpectedly.'));
      } catch {
        response = failed(400, 'invalid_request', 'The request could not be read.');
      }
      if (typeof response?.status !== 'number' || typeof response.headers?.forEach !== 'function') {
        response = failed(500, 'internal_error', 'The endpoint answered something other than a Response.');
      }
      await send(res, response, body.release());
    } catch {
      if (!res.headersSent && !res.destroyed) {
        res.statusCode = 500;
        res.end();
      } else {
        res.destroy();
      }
    } finally {
      res.off('close', onClose);
    }
  };
}

interface NodeBody {
  /** The body to give the Request; `undefined` for GET and HEAD. */
  stream: ReadableStream<Uint8Array> | undefined;
  /** Stops feeding the stream, discards what is left and answers whether the connection must close. */
  release(): boolean;
}

/** The request body as a stream that stops once more than `limit` bytes have come. */
function requestBody(req: IncomingMessage, limit: number): NodeBody {
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD') {
    req.resume();
    return { stream: undefined, release: () => false };
  }
  if (req.readableEnded) {
    // A body parser read it already.
    const bytes = parsedBody((req as IncomingMessage & { body?: unknown }).body);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        if (bytes.byteLength > 0) controller.enqueue(bytes.subarray(0, limit + 1));
        controller.close();
      },
    });
    return { stream, release: () => false };
  }

  let detach = (): void => {};
  let settled = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        let size = 0;
        const finish = (error?: Error): void => {
          if (settled) return;
          settled = true;
          detach();
          if (error) controller.error(error);
          else controller.close();
        };
        const onData = (chunk: Uint8Array): void => {
          size += chunk.byteLength;
          controller.enqueue(chunk);
          // The reader sees more than the limit and stops; nothing after this chunk is read.
          if (size > limit) finish();
          else if ((controller.desiredSize ?? 1) <= 0) req.pause();
        };
        const onEnd = (): void => finish();
        const onAbort = (): void => finish(new Error('The client went away before the request body was complete.'));
        detach = () => {
          req.off('data', onData).off('end', onEnd).off('error', onAbort).off('close', onAbort);
          req.pause();
        };
        req.on('data', onData).on('end', onEnd).on('error', onAbort).on('close', onAbort);
      },
      pull() {
        if (!settled) req.resume();
      },
      cancel() {
        settled = true;
        detach();
      },
    },
    { highWaterMark: 1 },
  );
  return {
    stream,
    release() {
      settled = true;
      detach();
      if (req.readableEnded || req.destroyed) return false;
      req.on('error', () => {});
      req.resume();
      return true;
    },
  };
}

/** A body a parser left in `req.body`, as bytes: text and bytes as they are, anything else as JSON. */
function parsedBody(body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (typeof body === 'object' && body !== null) return new TextEncoder().encode(JSON.stringify(body));
  return new Uint8Array(0);
}

function requestUrl(req: IncomingMessage): string {
  const path = (req as IncomingMessage & { originalUrl?: unknown }).originalUrl ?? req.url ?? '/';
  const scheme = (req.socket as { encrypted?: boolean } | undefined)?.encrypted ? 'https' : 'http';
  for (const host of [req.headers.host, 'localhost']) {
    try {
      return new URL(String(path), `${scheme}://${host}`).href;
    } catch {
      // next
    }
  }
  return `${scheme}://localhost/`;
}

function requestHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  return headers;
}

/** Writes a Response to `res`, unless the client has gone. */
async function send(res: ServerResponse, response: Response, closeConnection: boolean): Promise<void> {
  const payload = response.body ? new Uint8Array(await response.arrayBuffer()) : undefined;
  if (res.headersSent || res.destroyed || res.writableEnded) return;
  const headers: OutgoingHttpHeaders = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie?.() ?? [];
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  delete headers['transfer-encoding'];
  if (payload) headers['content-length'] = payload.byteLength;
  if (closeConnection) headers['connection'] = 'close';
  res.writeHead(response.status, headers);
  res.end(payload);
}

/** The adapter's own error answer, in the token handler's shape and with its headers. */
function failed(status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' },
  });
}
