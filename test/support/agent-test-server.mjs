/**
 * The server side of the browser tests, all on 127.0.0.1 and all real: the local agent (built
 * dist/local-agent), the token handler in front of it at /api/voice-token, token endpoints that fail in
 * each way a site's endpoint can fail, the fault-injecting socket server, and `/single/`, which
 * serves the bundles without the worklet files beside them.
 *
 * Tests reach the server state through wtr server commands (`executeServerCommand`).
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createTokenHandler } from '../../dist/server/index.js';
import { LocalAgent } from '../../dist/local-agent/index.js';
import { startFaultServer } from './fault-server.mjs';

export const PORT = Number(process.env.VA_TEST_PORT ?? 8129);
const root = fileURLToPath(new URL('../..', import.meta.url));

const state = {
  /** @type {LocalAgent | undefined} */ agent: undefined,
  /** @type {Awaited<ReturnType<typeof startFaultServer>> | undefined} */ fault: undefined,
  /** @type {((req: import('http').IncomingMessage, res: import('http').ServerResponse) => Promise<void>) | undefined} */ tokenHandler: undefined,
  closedPort: 0,
  /** Requests made under /single/, with their status. */ singleRequests: [],
  /** Token requests per `probe` query value, so each test counts only its own. */
  tokenRequests: new Map(),
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
      state.tokenHandler = createTokenHandler({
        apiKey: 'sk_local_dev',
        baseUrl: state.agent.restBaseUrl,
        connectUrl: state.agent.connectUrl,
        allowedOrigins: [`http://127.0.0.1:${PORT}`, `http://localhost:${PORT}`],
      });
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
        case 'agent-session-count':
          return state.agent.sessions.filter((s) => s.agentId === payload.agentId).length;
        case 'fault-connections':
          return state.fault.connections.filter((c) => c.probe === payload.probe);
        case 'single-requests':
          return [...state.singleRequests];
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
  if (path.startsWith('/single/')) {
    const file = { '/single/voice-agent.js': 'voice-agent.js', '/single/voice-agent.standalone.js': 'voice-agent.standalone.js' }[path];
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

/** Token endpoints that misbehave, one per path; `fault/<scenario>` hands out the fault server. */
function failingTokenEndpoint(ctx, kind) {
  const json = (body) => {
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(body);
  };
  const probe = ctx.query.probe ?? '';
  // The Atoms shape, with the session's rate known from the token answer already.
  if (kind.startsWith('fault/')) {
    return json({ data: { access_token: 'wct_fault', expires_in: 30, sample_rate: 24000, url: state.fault.url(kind.slice('fault/'.length), probe) } });
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
    case 'refused-socket':
      return json({ access_token: 'wct_nowhere', url: `ws://127.0.0.1:${state.closedPort}/atoms/v1/agent/connect` });
    case 'slow':
      // Answers after the test's short client timeout.
      return new Promise((resolve) => setTimeout(resolve, 3000)).then(() => json({ access_token: 'wct_late' }));
    default:
      ctx.status = 404;
  }
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
    const tokenHandler = createTokenHandler({
      apiKey: 'sk_local_dev',
      baseUrl: agent.restBaseUrl,
      connectUrl: agent.connectUrl,
      allowedOrigins: [`http://127.0.0.1:${PORT}`, `http://localhost:${PORT}`],
    });
    state.rateAgents.set(sampleRate, { agent, tokenHandler });
  }
  return { tokenEndpoint: `/api/rate-token/${sampleRate}` };
}

async function stopRateAgent(sampleRate) {
  const rateAgent = state.rateAgents.get(sampleRate);
  state.rateAgents.delete(sampleRate);
  await rateAgent?.agent.close();
}
