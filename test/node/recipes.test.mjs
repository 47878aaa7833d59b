/**
 * The token endpoint recipes of docs/recipes/server, run as their platforms run them, in front of a
 * local agent that answers register-call like Atoms (reached through the recipes' ATOMS_API_URL):
 * Express imported as it is and listening on a free port; the Next.js route, the Cloudflare Worker and
 * the Deno server bundled with esbuild (the package import aliased to the built dist/server) and called
 * with Fetch-API Requests the way Next.js, Workers and Deno call them. The TypeScript recipes are also
 * type-checked against the published declarations.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { firstFrame, localAgentFixture } from '../support/local-agent-fixture.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const RECIPES = `${root}docs/recipes/server/`;
const SERVER = `${root}dist/server/index.js`;
/** Bundles of this run; per process, so runs at the same time do not overwrite each other's. */
const OUT = `${root}test/.generated/recipes-${process.pid}/`;
const KEY = 'sk_local_dev';
const AGENT = 'recipe-agent';
const SITE = 'https://your-site.example';
const SHOP = 'https://shop.your-site.example';
const FOREIGN = 'https://elsewhere.example';
/** Where the Fetch-API recipes are mounted, as the platform gives the request's URL. */
const ENDPOINT = `${SITE}/api/voice-token`;
const TIMEOUT = { timeout: 20_000 };

const local = localAgentFixture({ apiKey: KEY, greeting: '' });
after(() => rmSync(OUT, { recursive: true, force: true }));

/** The variables every recipe reads: the local agent's key and REST base, one agent, two sites. */
function recipeEnv() {
  return { ATOMS_API_KEY: KEY, ATOMS_AGENT_ID: AGENT, ALLOWED_ORIGINS: `${SITE},${SHOP}`, ATOMS_API_URL: local.agent.restBaseUrl };
}

/** Sets (or, for `undefined`, removes) variables of process.env until the test ends. */
function useEnv(t, variables) {
  const saved = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  const assign = (values) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  assign(variables);
  t.after(() => assign(saved));
}

/** Bundles a recipe as its platform would, with `specifier` (the package import) aliased to dist/server, and imports it. */
async function bundle(file, { platform = 'neutral', specifier = 'voice-agent-widget/server' } = {}) {
  const outfile = `${OUT}${file.replace(/\W+/g, '-')}.mjs`;
  const alias = { [specifier]: SERVER };
  await build({ entryPoints: [RECIPES + file], outfile, bundle: true, platform, format: 'esm', alias, logLevel: 'silent' });
  return import(pathToFileURL(outfile).href);
}

/** What a browser on `origin` sends: a POST with a JSON body, or (`preflight`) its CORS preflight. */
function browserRequest(url, { origin = SITE, preflight = false, body = {}, contentType = 'application/json', headers = {} } = {}) {
  if (preflight) {
    return new Request(url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type', ...headers },
    });
  }
  return new Request(url, { method: 'POST', headers: { origin, 'content-type': contentType, ...headers }, body: JSON.stringify(body) });
}

/** A response's status, headers and JSON body; no answer may carry the key. */
async function read(response) {
  const text = await response.text();
  assert.ok(!text.includes(KEY), text);
  return { status: response.status, headers: response.headers, text, json: text ? JSON.parse(text) : undefined };
}

/**
 * The contract a mounted recipe keeps for the endpoint at `url`, `send` being how a request reaches it:
 * a token for the configured agent that really opens a call, for each allowed site; preflights answered
 * for those sites only; other origins and other agents refused.
 */
async function assertTokenEndpoint(t, url, send) {
  for (const origin of [SITE, SHOP]) {
    const minted = await read(await send(browserRequest(url, { origin })));
    assert.equal(minted.status, 200, minted.text);
    assert.match(minted.json.access_token, /^wct_/);
    assert.equal(minted.headers.get('access-control-allow-origin'), origin);
    assert.equal(minted.headers.get('cache-control'), 'no-store');
    const created = await firstFrame(t, local.agent.connectUrl, minted.json.access_token);
    assert.equal(created.type, 'session.created');
    assert.equal(local.agent.sessions.find((session) => session.sessionId === created.session_id)?.agentId, AGENT);
  }

  const preflight = await read(await send(browserRequest(url, { preflight: true })));
  assert.equal(preflight.status, 204, preflight.text);
  assert.equal(preflight.text, '');
  assert.equal(preflight.headers.get('access-control-allow-origin'), SITE);
  assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /\bPOST\b/);
  assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /content-type/i);

  for (const preflight of [false, true]) {
    const foreign = await read(await send(browserRequest(url, { origin: FOREIGN, preflight })));
    assert.equal(foreign.status, 403, foreign.text);
    assert.equal(foreign.json.error.code, 'origin_not_allowed');
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  }

  const otherAgent = await read(await send(browserRequest(url, { body: { agent_id: 'someone-else' } })));
  assert.equal(otherAgent.status, 400, otherAgent.text);
  assert.equal(otherAgent.json.error.code, 'invalid_request');
}

/** A request of the wrong content type: counted by the rate limit, then refused (415) before the body is read. */
const miscounted = (headers = {}) => browserRequest(ENDPOINT, { contentType: 'text/plain', headers });

/**
 * Spends a client's default rate limit (30 a minute; the client named by `headers` or by `send`) and
 * resolves with the status of the request after it. Only a handler kept across requests counts that far.
 */
async function statusAfterLimit(send, headers) {
  for (let i = 0; i < 30; i++) assert.equal((await send(miscounted(headers))).status, 415);
  return (await send(miscounted(headers))).status;
}

test('no server recipe holds a key: the handler reads it from the environment or a secret', () => {
  const files = readdirSync(RECIPES, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
  assert.ok(files.length >= 5, files.map((entry) => entry.name).join());
  for (const entry of files) {
    const text = readFileSync(`${entry.parentPath}/${entry.name}`, 'utf8');
    assert.doesNotMatch(text, /sk_\w/, entry.name);
    if (/\.(mjs|ts)$/.test(entry.name)) assert.match(text, /ATOMS_API_KEY/, entry.name);
  }
});

test('Express: the app, started as it is on a free port, serves POST and preflights at /api/voice-token', TIMEOUT, async (t) => {
  useEnv(t, { ...recipeEnv(), PORT: '0' });
  const { server } = await import(pathToFileURL(`${RECIPES}express.mjs`).href);
  t.after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  if (!server.listening) await once(server, 'listening');
  const url = `http://127.0.0.1:${server.address().port}/api/voice-token`;

  await assertTokenEndpoint(t, url, fetch);
  const elsewhere = await fetch(browserRequest(url.replace('/api/voice-token', '/api/other')));
  assert.equal(elsewhere.status, 404);
});

test('Next.js: the route loads without the variables; its POST and OPTIONS serve Requests as Next calls them', TIMEOUT, async (t) => {
  const variables = recipeEnv();
  useEnv(t, Object.fromEntries(Object.keys(variables).map((name) => [name, undefined])));
  // `next build` imports route modules; the handler is made on the first request, not then.
  const route = await bundle('next-app-router/app/api/voice-token/route.ts', { platform: 'node' });
  assert.deepEqual(Object.keys(route).sort(), ['OPTIONS', 'POST', 'runtime']);
  assert.equal(route.runtime, 'nodejs');

  Object.assign(process.env, variables);
  // Next picks the export named by the method and passes the route's context beside the request.
  const send = (request) => route[request.method](request, { params: Promise.resolve({}) });
  await assertTokenEndpoint(t, ENDPOINT, send);
  // Vercel names the client in X-Real-IP.
  assert.equal(await statusAfterLimit(send, { 'x-real-ip': '203.0.113.5' }), 429);
  assert.equal((await send(miscounted({ 'x-real-ip': '203.0.113.6' }))).status, 415);
});

test('Cloudflare Worker: wrangler.toml names its vars, never the key, and points at the worker', () => {
  const toml = readFileSync(`${RECIPES}wrangler.toml`, 'utf8');
  assert.match(toml, /^main = "cloudflare-worker\.ts"$/m);
  const [, varsSection = ''] = toml.split(/^\[vars\]$/m);
  const vars = [...varsSection.matchAll(/^(\w+) = "[^"]*"$/gm)].map((match) => match[1]);
  assert.deepEqual(vars.sort(), ['ALLOWED_ORIGINS', 'ATOMS_AGENT_ID']);
  assert.match(toml, /wrangler secret put ATOMS_API_KEY/);
});

test('Cloudflare Worker: fetch(request, env) serves /api/voice-token with one handler per env', TIMEOUT, async (t) => {
  const { default: worker } = await bundle('cloudflare-worker.ts');
  const env = recipeEnv();
  await assertTokenEndpoint(t, ENDPOINT, (request) => worker.fetch(request, env));
  assert.equal((await worker.fetch(new Request(`${SITE}/other`), env)).status, 404);

  // Workers name the client in CF-Connecting-IP.
  const client = { 'cf-connecting-ip': '198.51.100.7' };
  assert.equal(await statusAfterLimit((request) => worker.fetch(request, env), client), 429);
  assert.equal((await worker.fetch(miscounted({ 'cf-connecting-ip': '198.51.100.8' }), env)).status, 415);
  // Other bindings (a new deployment's) get a handler of their own, which counts afresh.
  assert.equal((await worker.fetch(miscounted(client), { ...env })).status, 415);
});

test('Deno: Deno.serve gets a handler that serves /api/voice-token and rate-limits by the client address', TIMEOUT, async (t) => {
  const source = readFileSync(`${RECIPES}deno.ts`, 'utf8');
  // The run command's --allow-env list: Deno refuses to read any other variable.
  const allowed = /--allow-env=([\w,]+)/.exec(source)?.[1].split(',') ?? [];
  const variables = recipeEnv();
  const served = [];
  globalThis.Deno = {
    env: {
      get(name) {
        if (!allowed.includes(name)) throw new Error(`Requires env access to "${name}", run again with the --allow-env flag`);
        return variables[name];
      },
    },
    serve: (...args) => served.push(args.at(-1)),
  };
  t.after(() => delete globalThis.Deno);
  await bundle('deno.ts', { specifier: 'npm:voice-agent-widget/server' });
  assert.equal(served.length, 1);
  const [handler] = served;
  const fromClient = (hostname) => (request) =>
    handler(request, { remoteAddr: { transport: 'tcp', hostname, port: 50_000 }, completed: new Promise(() => {}) });

  await assertTokenEndpoint(t, ENDPOINT, fromClient('192.0.2.1'));
  assert.equal((await fromClient('192.0.2.1')(new Request(`${SITE}/other`))).status, 404);
  assert.equal(await statusAfterLimit(fromClient('192.0.2.10')), 429);
  assert.equal((await fromClient('192.0.2.11')(miscounted())).status, 415);
});

/** Deno's globals as far as the Deno recipe uses them (the shapes of Deno's own lib.deno.ns.d.ts). */
const DENO_GLOBALS = `declare namespace Deno {
  interface NetAddr { transport: 'tcp' | 'udp'; hostname: string; port: number }
  interface ServeHandlerInfo { remoteAddr: NetAddr; completed: Promise<void> }
  type ServeHandler = (request: Request, info: ServeHandlerInfo) => Response | Promise<Response>;
  const env: { get(key: string): string | undefined };
  function serve(handler: ServeHandler): unknown;
  function serve(options: { port?: number; hostname?: string }, handler: ServeHandler): unknown;
}
`;

test('the TypeScript recipes type-check, strictly, against the published declarations', TIMEOUT, async () => {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(`${OUT}deno-globals.d.ts`, DENO_GLOBALS);
  const declarations = [`${root}dist/types/src/server/index.d.ts`];
  const compilerOptions = {
    target: 'es2022',
    module: 'esnext',
    moduleResolution: 'bundler',
    strict: true,
    isolatedModules: true,
    verbatimModuleSyntax: true,
    noEmit: true,
    skipLibCheck: true,
    lib: ['es2022', 'dom', 'dom.iterable'],
    types: ['node'],
    paths: { 'voice-agent-widget/server': declarations, 'npm:voice-agent-widget/server': declarations },
  };
  const files = ['next-app-router/app/api/voice-token/route.ts', 'cloudflare-worker.ts', 'deno.ts'].map((file) => RECIPES + file);
  writeFileSync(`${OUT}tsconfig.json`, JSON.stringify({ compilerOptions, files: [...files, `${OUT}deno-globals.d.ts`] }));
  await promisify(execFile)(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${OUT}tsconfig.json`]).catch((error) => {
    assert.fail(`tsc: ${error.stdout}${error.stderr}`);
  });
});
