#!/usr/bin/env node
/**
 * The demo server: `npm start`, or `node demo/server.mjs` after a build.
 *
 * Serves the demo page and the built bundle, mounts the local agent, and answers
 * `POST /api/voice-token` with the package's token handler. The handler talks to the local agent,
 * unless ATOMS_API_KEY and ATOMS_AGENT_ID are both set: then it mints tokens from the real Atoms API.
 *
 * Environment: PORT (default 8000), HOST (default 127.0.0.1), ATOMS_API_KEY, ATOMS_AGENT_ID.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTokenHandler, toNodeHandler } from '../dist/server/index.js';
import { LocalAgent, fliteSpeaker } from '../dist/local-agent/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PORT = Number(process.env.PORT ?? 8000);
const HOST = process.env.HOST ?? '127.0.0.1';
const TOKEN_PATH = '/api/voice-token';
/**
 * The demo's pages run under the strict policy the README promises works: files from this origin
 * only (the worklets among them), sockets to the local agent on loopback or to the real Atoms API. No inline code or
 * styles, no blob: or data:, no eval.
 */
const PAGE_POLICY = "default-src 'self'; script-src 'self'; connect-src 'self' ws://127.0.0.1:* wss://api.smallest.ai";
/** Hosts for which the page is opened as http://localhost (a secure context, so the microphone works). */
const LOOPBACK_OR_ANY = new Set(['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::']);
/** URL prefixes served from the repository, each from the directory of the same name. */
const STATIC_DIRECTORIES = ['demo', 'dist'];
const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wav': 'audio/wav',
  '.txt': 'text/plain; charset=utf-8',
};

const atoms =
  process.env.ATOMS_API_KEY && process.env.ATOMS_AGENT_ID
    ? { apiKey: process.env.ATOMS_API_KEY, agentId: process.env.ATOMS_AGENT_ID }
    : undefined;

/** A fresh key for this run: the local agent accepts it only from this server's token handler. */
const localKey = `sk_local_${randomBytes(16).toString('hex')}`;
/** Created once the server listens, when its origins are known. */
let tokenHandler;

if (!Number.isInteger(PORT) || PORT < 0 || PORT > 65_535) {
  console.error(`demo server: PORT must be a port number (got ${JSON.stringify(process.env.PORT)})`);
  process.exit(1);
}

const server = createServer((req, res) => {
  if (agent.handleRequest(req, res)) return;
  const pathname = pathnameOf(req);
  if (pathname === TOKEN_PATH) {
    void tokenHandler(req, res);
    return;
  }
  void serveStatic(req, res, pathname);
});
// Real words when the optional speech synthesizer is installed; the synthetic voice otherwise.
const speak = await fliteSpeaker().catch(() => undefined);
const agent = LocalAgent.attach(server, { apiKey: localKey, ...(speak ? { speak } : {}) });

server.on('error', (error) => {
  console.error(`demo server: ${error.code === 'EADDRINUSE' ? `port ${PORT} is already in use (set PORT to use another)` : error.message}`);
  process.exit(1);
});

server.listen(PORT, HOST, () => {
  const { port } = server.address();
  const pageHost = LOOPBACK_OR_ANY.has(HOST) ? 'localhost' : HOST;
  const origins = [...new Set([`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://${pageHost}:${port}`])];
  try {
    tokenHandler = toNodeHandler(
      atoms
        ? createTokenHandler({ apiKey: atoms.apiKey, agentId: atoms.agentId, allowedOrigins: origins })
        : createTokenHandler({ apiKey: localKey, upstream: agent.restBaseUrl, connectUrl: agent.connectUrl, allowedOrigins: origins }),
    );
  } catch (error) {
    console.error(`demo server: ${error.message}`);
    process.exit(1);
  }
  const using = atoms ? `the Atoms agent ${atoms.agentId} (key from ATOMS_API_KEY)` : 'the local test agent (no API key needed)';
  console.log(`voice-agent demo on http://${pageHost}:${port}/ using ${using}${atoms ? '' : speak ? ', speaking with Flite' : ', with its synthetic voice'}`);
});

async function serveStatic(req, res, pathname) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
  const file = resolveStaticPath(pathname);
  if (!file) return sendText(res, 404, 'Not found');
  let size;
  try {
    const info = await stat(file);
    if (!info.isFile()) return sendText(res, 404, 'Not found');
    size = info.size;
  } catch {
    return sendText(res, 404, 'Not found');
  }
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': size,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    ...(file.endsWith('.html') && { 'Content-Security-Policy': PAGE_POLICY }),
  });
  if (req.method === 'HEAD') return res.end();
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

function pathnameOf(req) {
  try {
    return new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
}

/** The file a URL path names, or undefined when it is outside the served directories. */
function resolveStaticPath(pathname) {
  if (pathname === undefined) return undefined;
  if (pathname === '/') return resolve(ROOT, 'demo/index.html');
  let decoded;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const [, top] = decoded.split('/');
  if (!STATIC_DIRECTORIES.includes(top)) return undefined;
  // Resolving and then checking the prefix rules out `..` and any other way of leaving the directory.
  const directory = resolve(ROOT, top);
  const file = resolve(ROOT, `.${decoded}`);
  return file.startsWith(directory + sep) ? file : undefined;
}

function sendText(res, status, text, headers = {}) {
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' });
  res.end(text);
}

let stopping = false;
async function shutdown() {
  if (stopping) process.exit(1); // a second signal: stop waiting
  stopping = true;
  await agent.close();
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
