/**
 * Serves the files of one folder (the built widget, `dist/cdn`) to pages on any origin: GET and HEAD
 * only, nothing outside the folder, never cached, readable cross-origin (module scripts and worklets
 * are fetched with CORS).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

/** The headers every answer of the dev server's files carries. */
const COMMON = { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' };

/** Answers `req` with the file of `folder` its path names, or 404 / 405. Never rejects. */
export async function serveFile(folder: string, pathname: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
  const file = fileIn(folder, pathname);
  const size = file === undefined ? undefined : await stat(file).then((info) => (info.isFile() ? info.size : undefined), () => undefined);
  if (file === undefined || size === undefined) return text(res, 404, 'Not found');
  res.writeHead(200, { ...COMMON, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': size });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

/** A plain-text answer. */
export function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...COMMON, ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end(body);
}

/** An HTML page. */
export function html(res: ServerResponse, body: string): void {
  res.writeHead(200, { ...COMMON, 'Content-Type': 'text/html; charset=utf-8' }).end(body);
}

/** The file a URL path names inside `folder`; `undefined` for anything that would leave it. */
function fileIn(folder: string, pathname: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (path.includes('\0') || path.includes('\\')) return undefined;
  const root = resolve(folder);
  const file = resolve(root, `.${path}`);
  return file.startsWith(root + sep) ? file : undefined;
}
