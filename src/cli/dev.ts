/**
 * `voice-agent-widget dev`: one loopback server for developing a page offline, with no API key. It
 * holds the local agent (the package's `dist/local-agent`), the package's token handler in front of it
 * at `/api/voice-token`, and the built widget (`dist/cdn`) at `/`, and prints the snippet to paste.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createTokenHandler, toNodeHandler } from 'voice-agent-widget/server';
import type { NodeHandler } from 'voice-agent-widget/server';
import { parseFlags } from './args.js';
import { CliError, EXIT, EXIT_CODES_HELP } from './exit-codes.js';
import { html, serveFile } from './static-files.js';

type LocalAgentModule = typeof import('voice-agent-widget/local-agent');

const DEFAULT_PORT = 8787;
const HOST = '127.0.0.1';
const TOKEN_PATH = '/api/voice-token';
/** Any id works with the local agent; this one reads well in the snippet. */
const AGENT_ID = 'local-agent';
/** Token handlers kept for the loopback origins seen (one per origin: the allow-list is exact). */
const MAX_ORIGINS = 64;

/** `voice-agent-widget dev --help`. */
export const DEV_HELP = `Usage: voice-agent-widget dev [--port <port>]

Serves, on ${HOST} only and with no API key:
  - the local agent (Atoms register-call and the agent WebSocket),
  - a token endpoint at ${TOKEN_PATH} for pages on http://localhost or http://127.0.0.1 (any port),
  - the built widget (voice-agent.js, its worklets, voice-agent.iife.js, locales/) at /,
and prints the <script> and <voice-agent> snippet to paste into the page you are developing.
Open the printed URL to try the widget at once. Ctrl+C stops it.

Options:
  -p, --port <port>   the port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
  -h, --help          show this help

The local agent needs the ws package: npm i -D ws

${EXIT_CODES_HELP}
`;

const FLAGS = {
  port: { type: 'string', short: 'p' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Runs `dev` with `args` (after the command name): starts the server, prints the snippet with `write`,
 * and keeps running until SIGINT or SIGTERM (resolves `undefined`), or answers `0` for `--help`.
 * @throws CliError on a bad flag, a missing `ws` or a port that cannot be used.
 */
export async function runDev(args: string[], write: (text: string) => void): Promise<number | undefined> {
  const flags = parseFlags('dev', args, FLAGS);
  if (flags.help) {
    write(DEV_HELP);
    return EXIT.ok;
  }
  const port = flags.port === undefined ? DEFAULT_PORT : Number(flags.port);
  if (!/^\d+$/.test(flags.port ?? '0') || !Number.isInteger(port) || port > 65_535) {
    throw new CliError(EXIT.usage, `--port must be a port number from 0 to 65535, not ${JSON.stringify(flags.port)}`);
  }
  const widget = fileURLToPath(new URL('../cdn/', import.meta.url));
  if (!existsSync(`${widget}voice-agent.js`)) {
    throw new CliError(EXIT.missingDependency, `the built widget is missing from ${widget}: run npm run build`);
  }
  const { LocalAgent, fliteSpeaker } = await loadLocalAgent();

  const server = createServer();
  // A fresh key for this run: the local agent accepts it only from this server's token endpoint.
  const apiKey = `sk_dev_${randomBytes(16).toString('hex')}`;
  // Real words when the optional speech synthesizer is installed; the synthetic voice otherwise.
  const speak = await fliteSpeaker().catch(() => undefined);
  const agent = LocalAgent.attach(server, { apiKey, ...(speak && { speak }), log: (line) => write(`[agent] ${line}\n`) });
  await listen(server, port);

  const base = agent.origin;
  const tokens = tokenEndpoints({ apiKey, upstream: agent.restBaseUrl, connectUrl: agent.connectUrl });
  let page = '';
  server.on('request', (req, res) => {
    if (agent.handleRequest(req, res)) return;
    const pathname = pathOf(req.url);
    if (pathname === TOKEN_PATH) void tokens(req.headers.origin)(req, res);
    else if (pathname === '/' && (req.method === 'GET' || req.method === 'HEAD')) html(res, page);
    else void serveFile(widget, pathname, req, res);
  });
  const snippet = [
    `<script type="module" src="${base}/voice-agent.js"></script>`,
    `<voice-agent agent-id="${AGENT_ID}" token-endpoint="${base}${TOKEN_PATH}"></voice-agent>`,
  ];
  page = devPage(snippet.join('\n'));
  write(
    [
      `voice-agent-widget dev on ${base}/ : the local agent (${speak ? 'speaking with Flite' : 'its synthetic voice'}), a token endpoint and the widget.`,
      '',
      'Paste into your page:',
      '',
      ...snippet.map((line) => `  ${line}`),
      '',
      `Pages on http://localhost or http://127.0.0.1 (any port) may use the token endpoint. No API key needed. Ctrl+C stops.`,
      '',
    ].join('\n'),
  );

  const stop = (): void => {
    void agent.close().finally(() => {
      server.close(() => process.exit(EXIT.ok));
      server.closeAllConnections();
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return undefined;
}

/** The local agent module, or a clear error when its `ws` dependency is not installed. */
async function loadLocalAgent(): Promise<LocalAgentModule> {
  try {
    return await import('voice-agent-widget/local-agent');
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    if (code === 'ERR_MODULE_NOT_FOUND' && /['"]ws['"]/.test(String(message))) {
      throw new CliError(EXIT.missingDependency, 'the dev server runs the local agent, which needs the ws package: npm i -D ws');
    }
    throw error;
  }
}

/**
 * The token endpoint: one handler per loopback origin (the handler's allow-list is exact), created on
 * first use; any other origin gets a handler that refuses it (403). Requests with no Origin (curl) are
 * served too.
 */
function tokenEndpoints(settings: { apiKey: string; upstream: string; connectUrl: string }): (origin: string | undefined) => NodeHandler {
  const handlers = new Map<string, NodeHandler>();
  return (origin) => {
    const allowed = origin !== undefined && isLoopbackOrigin(origin) ? origin : '';
    let handler = handlers.get(allowed);
    if (handler === undefined) {
      handler = toNodeHandler(
        createTokenHandler({
          ...settings,
          allowedOrigins: allowed ? [allowed] : [],
          allowRequestsWithoutOrigin: true,
          rateLimit: false,
        }),
      );
      if (handlers.size >= MAX_ORIGINS) handlers.delete(handlers.keys().next().value!);
      handlers.set(allowed, handler);
    }
    return handler;
  };
}

/** The path of a request URL; `/\0` (which names no file) when it cannot be read. */
function pathOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return '/\0';
  }
}

function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'EADDRINUSE' ? 'is in use' : error.code === 'EACCES' ? 'is not allowed' : `failed (${error.message})`;
      reject(new CliError(EXIT.cannotListen, `port ${port} ${reason}: pass --port <another port> (0 picks a free one)`));
    });
    server.listen(port, HOST, () => resolve());
  });
}

/** The page at `/`: the widget, talking to the local agent, and the snippet. */
function devPage(snippet: string): string {
  const escaped = snippet.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>voice-agent-widget dev</title>
<script type="module" src="/voice-agent.js"></script>
<h1>voice-agent-widget dev server</h1>
<p>The widget below talks to the local agent. To use it in your own page, paste:</p>
<pre>${escaped}</pre>
<voice-agent layout="inline" agent-id="${AGENT_ID}" token-endpoint="${TOKEN_PATH}"></voice-agent>
</html>
`;
}
