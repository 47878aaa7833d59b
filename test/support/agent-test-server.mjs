/**
 * The server side of the browser tests, all on 127.0.0.1 and all real: the local agent (built
 * dist/local-agent), the token handler in front of it at /api/voice-token, token endpoints that fail in
 * each way a site's endpoint can fail, the fault-injecting socket server, `/single/`, which
 * serves the CDN files without the worklet files beside them, `/alone/` (voice-agent.js only), and `/csp/`, which serves the demo and
 * test pages under a strict Content-Security-Policy and records what the browser reports against it,
 * `/apps/`, the apps built from the packed package, and `/embed/`, the HTML recipes as pasted.
 *
 * Tests reach the server state through wtr server commands (`executeServerCommand`).
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createTokenHandler, toNodeHandler } from '../../dist/server/index.js';
import { LocalAgent } from '../../dist/local-agent/index.js';
import { startFaultServer } from './fault-server.mjs';

/** The test server's port: the runner's choice for an engine that runs alongside another, else VA_TEST_PORT. */
export const PORT = Number(process.env.VA_SERVER_PORT ?? process.env.VA_TEST_PORT ?? 8129);
const root = fileURLToPath(new URL('../..', import.meta.url));

const state = {
  /** @type {LocalAgent | undefined} */ agent: undefined,
  /** @type {Awaited<ReturnType<typeof startFaultServer>> | undefined} */ fault: undefined,
  /** @type {((req: import('http').IncomingMessage, res: import('http').ServerResponse) => Promise<void>) | undefined} */ tokenHandler: undefined,
  closedPort: 0,
  /** Requests made under /single/, with their status. */ singleRequests: [],
  /** Content-Security-Policy violation reports the browsers sent (`report-uri /csp/report`). */ cspReports: [],
  /** Requests made under /apps/ (the Vite-built apps of test/support/packaged-apps.mjs), with their status. */ appRequests: [],
  /** Token requests per `probe` query value, so each test counts only its own. */
  tokenRequests: new Map(),
  /** `reuse` token endpoint: probe → the one token it hands out. */
  reusedTokens: new Map(),
  /**
   * Extra local agents, one per session rate, started on demand (`rate-agent-start`), each with its
   * token endpoint at /api/rate-token/<rate>: sample rate → { agent, tokenHandler }.
   */
  rateAgents: new Map(),
};

export function agentTestServer() {
  return {
    name: 'voice-agent-test-server',
    async serverStart() {
      state.agent = await LocalAgent.start({ host: '127.0.0.1', port: 0 });
      state.fault = await startFaultServer();
      state.closedPort = await closedPort();
      state.tokenHandler = localTokenHandler(state.agent);
    },
    async serverStop() {
      await state.agent?.close();
      await state.fault?.close();
      await Promise.all([...state.rateAgents.keys()].map(stopRateAgent));
    },
    executeCommand({ command, payload }) {
      switch (command) {
        case 'agent-session':
          return state.agent.sessions.find((s) => s.sessionId === payload.sessionId) ?? null;
        case 'agent-connect-url':
          return state.agent.connectUrl;
        case 'agent-sessions':
          return state.agent.sessions.filter((s) => s.agentId === payload.agentId);
        case 'agent-session-count':
          return state.agent.sessions.filter((s) => s.agentId === payload.agentId).length;
        case 'inject-faults':
          state.agent.injectFaults(payload.agentId, payload.faults);
          return true;
        case 'agent-sessions-summary':
          return sessionsSummary(state.agent.sessions.filter((s) => s.agentId === payload.agentId));
        case 'fault-connections':
          return state.fault.connections.filter((c) => c.probe === payload.probe);
        case 'single-requests':
          return [...state.singleRequests];
        case 'csp-reports':
          return [...state.cspReports];
        case 'app-requests':
          return [...state.appRequests];
        case 'token-requests':
          return state.tokenRequests.get(payload.probe) ?? 0;
        case 'rate-agent-start':
          return startRateAgent(payload.sampleRate);
        case 'rate-agent-session':
          return state.rateAgents.get(payload.sampleRate)?.agent.sessions.find((s) => s.sessionId === payload.sessionId) ?? null;
        case 'rate-agent-stop':
          return stopRateAgent(payload.sampleRate).then(() => true);
        default:
          return undefined;
      }
    },
  };
}

/** Koa middleware for the HTTP routes above. */
export async function agentTestRoutes(ctx, next) {
  const { path } = ctx;
  if (path === '/api/voice-token' || path.startsWith('/api/token/')) {
    const probe = ctx.query.probe ?? '';
    state.tokenRequests.set(probe, (state.tokenRequests.get(probe) ?? 0) + 1);
  }
  if (path === '/api/voice-token') {
    ctx.respond = false;
    await state.tokenHandler(ctx.req, ctx.res);
    return;
  }
  if (path.startsWith('/api/token/')) {
    return failingTokenEndpoint(ctx, path.slice('/api/token/'.length));
  }
  if (path.startsWith('/api/rate-token/')) {
    const rateAgent = state.rateAgents.get(Number(path.slice('/api/rate-token/'.length)));
    if (!rateAgent) {
      ctx.status = 404;
      return;
    }
    ctx.respond = false;
    await rateAgent.tokenHandler(ctx.req, ctx.res);
    return;
  }
  if (path.startsWith('/slow-worklets/')) {
    // /slow-worklets/<ms>/<name>.js: the built worklet, after a wait (a slow network's download).
    const match = /^\/slow-worklets\/(\d{1,5})\/([\w-]+\.js)$/.exec(path);
    if (!match) {
      ctx.status = 404;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, Number(match[1])));
    ctx.type = 'text/javascript';
    ctx.body = await readFile(`${root}dist/worklets/${match[2]}`, 'utf8').catch(() => ((ctx.status = 404), ''));
    return;
  }
  if (path.startsWith('/csp/')) return cspRoute(ctx);
  if (path.startsWith('/apps/')) return appsRoute(ctx);
  if (path.startsWith('/embed/')) return embedRoute(ctx);
  if (path.startsWith('/single/') || path.startsWith('/alone/')) {
    // /single/: the CDN files without their worklets/ folder; /alone/: voice-agent.js and nothing beside it.
    const name = /^\/(single|alone)\/(voice-agent(?:[.-][\w-]+)?\.js)$/.exec(path);
    const file = name && (name[1] === 'single' || name[2] === 'voice-agent.js') ? name[2] : undefined;
    if (file) {
      ctx.type = 'text/javascript';
      ctx.body = await readFile(`${root}dist/cdn/${file}`, 'utf8');
    } else {
      ctx.status = 404;
    }
    state.singleRequests.push({ path, status: ctx.status });
    return;
  }
  return next();
}

/**
 * The policy a strict site sends: scripts, styles, worklets and fetches from the page's own origin
 * only, sockets to loopback. No blob:, no data:, no inline code or styles, no eval.
 */
export const STRICT_CSP = "default-src 'self'; script-src 'self'; connect-src 'self' ws://127.0.0.1:*";
const CSP_PAGES = {
  '/csp/demo/index.html': 'demo/index.html',
  '/csp/single.html': 'test/support/pages/csp-single.html',
};

/** Pages under the strict policy (each violation reported to /csp/report), and the reports. */
async function cspRoute(ctx) {
  if (ctx.path === '/csp/report') {
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    try {
      const report = JSON.parse(Buffer.concat(chunks).toString('utf8'))['csp-report'] ?? {};
      state.cspReports.push({ page: report['document-uri'], directive: report['violated-directive'] ?? report['effective-directive'], blocked: report['blocked-uri'] });
    } catch {
      state.cspReports.push({ malformed: true });
    }
    ctx.status = 204;
    return;
  }
  const file = CSP_PAGES[ctx.path];
  if (!file) {
    ctx.status = 404;
    return;
  }
  ctx.set('Content-Security-Policy', `${STRICT_CSP}; report-uri /csp/report`);
  ctx.type = 'text/html';
  ctx.body = await readFile(`${root}${file}`, 'utf8');
}

/**
 * The package's token handler in front of a local agent, as a Node listener for Koa routes
 * (`ctx.respond = false`). No rate limit: the suite asks for many tokens from one address.
 */
function localTokenHandler(agent) {
  return toNodeHandler(
    createTokenHandler({
      apiKey: 'sk_local_dev',
      upstream: agent.restBaseUrl,
      connectUrl: agent.connectUrl,
      allowedOrigins: [`http://127.0.0.1:${PORT}`, `http://localhost:${PORT}`],
      rateLimit: false,
    }),
  );
}

/**
 * The HTML recipes of docs/recipes/html as pasted into a page, with their placeholders pointed here:
 * the CDN at /dist/cdn/, the token endpoint on 127.0.0.1 (cross-origin for a page opened on
 * localhost: the CORS path), the hosted widget page on localhost. `?without-allow` drops the
 * iframe's allow attribute. The test's scaffolding (pages/embed-report.js) comes last.
 */
async function embedRoute(ctx) {
  const name = /^\/embed\/([\w-]+)\.html$/.exec(ctx.path)?.[1];
  let snippet;
  try {
    snippet = name && (await readFile(`${root}docs/recipes/html/${name}.html`, 'utf8'));
  } catch {
    snippet = undefined;
  }
  if (!snippet) {
    ctx.status = 404;
    return;
  }
  let html = snippet
    .replaceAll('https://cdn.jsdelivr.net/npm/voice-agent-widget@0/dist/cdn/', '/dist/cdn/')
    .replaceAll('YOUR_AGENT_ID', 'local-echo')
    .replaceAll('https://your-site.example/api/voice-token', `http://127.0.0.1:${PORT}/api/voice-token`)
    .replaceAll('https://your-site.example/voice-widget.html', `http://localhost:${PORT}/embed/script-classic.html`);
  if ('without-allow' in ctx.query) html = html.replace(/<iframe([^>]*?)\s+allow="[^"]*"/, '<iframe$1');
  ctx.type = 'text/html';
  ctx.body = `<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>${name}</title></head>\n<body>\n${html}\n<script src="/test/support/pages/embed-report.js"></script>\n</body>\n</html>\n`;
}

/** The apps built from the packed package (test/.generated/apps/dist), as a static site. */
async function appsRoute(ctx) {
  const file = ctx.path.slice('/apps/'.length);
  if (!/^(webpack\/)?([\w-]+\.html|[\w.-]+\.js|assets\/[\w.-]+\.js)$/.test(file)) {
    ctx.status = 404;
  } else {
    try {
      ctx.body = await readFile(`${root}test/.generated/apps/dist/${file}`, 'utf8');
      ctx.type = file.endsWith('.html') ? 'text/html' : 'text/javascript';
    } catch {
      ctx.status = 404;
      ctx.body = 'Not built: run node test/support/packaged-apps.mjs (npm test does).';
    }
  }
  state.appRequests.push({ path: ctx.path, status: ctx.status });
}

/** Token endpoints that misbehave, one per path; `fault/<scenario>` hands out the fault server. */
function failingTokenEndpoint(ctx, kind) {
  const json = (body) => {
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(body);
  };
  const probe = ctx.query.probe ?? '';
  // The Atoms shape, with the session's rate known from the token answer already.
  if (kind.startsWith('fault/')) {
    const url = state.fault.url(kind.slice('fault/'.length), probe, { seed: ctx.query.seed });
    return json({ data: { access_token: 'wct_fault', expires_in: 30, sample_rate: 24000, url } });
  }
  const status = /^http-(\d{3})$/.exec(kind)?.[1];
  if (status && status !== '500') {
    ctx.status = Number(status);
    return json({ error: `refused with ${status}` });
  }
  switch (kind) {
    case 'http-401-with-token':
      // An error status whose body still carries a token and a URL: neither may be used.
      ctx.status = 401;
      return json({ access_token: 'wct_refused', url: state.fault.url('drop', probe) });
    case 'http-500':
      ctx.status = 500;
      return json({ error: 'upstream exploded' });
    case 'not-json':
      ctx.type = 'text/html';
      ctx.body = '<!doctype html><title>Login</title>';
      return;
    case 'no-token':
      return json({ data: { expires_in: 30 } });
    case 'secret-key':
      return json({ access_token: 'sk_live_0123456789abcdef' });
    case 'secret-key-nested':
      return json({ data: { access_token: 'wct_fine', debug: { api_key: 'sk_live_leaked' } } });
    case 'secret-key-deep': {
      // A usable token, and a key inside a longer text twenty levels down (objects and arrays).
      let debug = { trace: 'upstream said: Authorization: Bearer sk_live_deep0123456789 (rejected)' };
      for (let level = 0; level < 20; level++) debug = level % 2 ? { inner: debug } : [debug];
      return json({ data: { access_token: 'wct_fine', expires_in: 30, debug } });
    }
    case 'refused-socket':
      return json({ access_token: 'wct_nowhere', url: `ws://127.0.0.1:${state.closedPort}/atoms/v1/agent/connect` });
    case 'redirect-other-origin':
      // A 307 keeps the POST and its body: to another origin (localhost is not this page's 127.0.0.1).
      ctx.status = 307;
      ctx.redirect(`http://localhost:${PORT}/api/voice-token`);
      return;
    case 'redirect-same-origin':
      ctx.status = 308;
      ctx.redirect('/api/voice-token');
      return;
    case 'reuse': {
      // A broken endpoint that caches the first token it got and hands it out again.
      const agentId = ctx.query.agent ?? 'reuse';
      const cached = state.reusedTokens.get(probe);
      if (cached) return json({ access_token: cached, url: state.agent.connectUrl });
      return mintToken(agentId).then((token) => {
        state.reusedTokens.set(probe, token);
        json({ access_token: token, url: state.agent.connectUrl });
      });
    }
    case 'slow':
      // Answers after the test's short client timeout.
      return new Promise((resolve) => setTimeout(resolve, 3000)).then(() => json({ access_token: 'wct_late' }));
    default:
      ctx.status = 404;
  }
}

/** A fresh token from the local agent's register-call, as a site's own endpoint gets one. */
async function mintToken(agentId) {
  const response = await fetch(`${state.agent.restBaseUrl}/conversation/register-call`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk_local_dev', 'content-type': 'application/json' },
    body: JSON.stringify({ agent_id: agentId, mode: 'chat' }),
  });
  const { data } = await response.json();
  return data.access_token;
}

/**
 * What the local agent saw of one agent id's sessions: how many, how many are still open, the most
 * that were open at once (a session that closed in the same millisecond another opened counts as
 * before it), and how they ended.
 */
function sessionsSummary(sessions) {
  const edges = sessions.flatMap((s) => [
    [s.openedAt, 1],
    [s.closedAt ?? Infinity, -1],
  ]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let maxOpen = 0;
  for (const [, step] of edges) maxOpen = Math.max(maxOpen, (open += step));
  const closeReasons = {};
  for (const s of sessions) if (s.closeReason) closeReasons[s.closeReason] = (closeReasons[s.closeReason] ?? 0) + 1;
  return { count: sessions.length, open: sessions.filter((s) => s.closedAt === undefined).length, maxOpen, closeReasons };
}

async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts (once) a local agent whose sessions run at `sampleRate`, and its token endpoint. It has no
 * greeting and speaks in silence, so all it sends back is the user's own audio (its echo of each
 * turn), unchanged at the session rate. Answers the token endpoint's path.
 */
async function startRateAgent(sampleRate) {
  if (!state.rateAgents.has(sampleRate)) {
    const silent = () => ({ pcm: new Int16Array(0), words: [], durationMs: 0 });
    const agent = await LocalAgent.start({ host: '127.0.0.1', port: 0, sampleRate, greeting: '', speak: silent });
    state.rateAgents.set(sampleRate, { agent, tokenHandler: localTokenHandler(agent) });
  }
  return { tokenEndpoint: `/api/rate-token/${sampleRate}` };
}

async function stopRateAgent(sampleRate) {
  const rateAgent = state.rateAgents.get(sampleRate);
  state.rateAgents.delete(sampleRate);
  await rateAgent?.agent.close();
}
