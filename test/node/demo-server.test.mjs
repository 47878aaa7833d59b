import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TIMEOUT = { timeout: 15_000 };

/** The demo server as users run it, on a free port, with no Atoms credentials in its environment. */
let demo;
let origin;
let output = '';
before(async () => {
  demo = spawn(process.execPath, ['demo/server.mjs'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ATOMS_API_KEY: '', ATOMS_AGENT_ID: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  demo.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk));
  demo.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk));
  origin = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo server did not start: ${output}`)), 10_000);
    const onData = () => {
      const port = /http:\/\/localhost:(\d+)\//.exec(output)?.[1];
      if (!port) return;
      clearTimeout(timer);
      demo.stdout.off('data', onData);
      resolve(`http://127.0.0.1:${port}`);
    };
    demo.stdout.on('data', onData);
    demo.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo server exited (${code}): ${output}`));
    });
  });
});
after(() => {
  if (demo.exitCode === null) demo.kill('SIGKILL');
});

/** GET (or any method) with a raw path, so `..` reaches the server as written. */
function get(path, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${origin}${path}`, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('the demo server prints its URL and the agent it uses, never a key', () => {
  assert.match(output, /^voice-agent demo on http:\/\/localhost:\d+\/ using the local test agent \(no API key needed\), speaking with Flite\n$/);
});

test('its pages carry a strict Content-Security-Policy (the widget needs nothing looser)', TIMEOUT, async () => {
  const page = await get('/demo/index.html');
  assert.equal(page.status, 200);
  assert.equal(page.headers['content-security-policy'], "default-src 'self'; script-src 'self'; connect-src 'self' ws://127.0.0.1:* wss://api.smallest.ai");
  assert.equal((await get('/dist/cdn/voice-agent.js')).headers['content-security-policy'], undefined);
});

test('it serves the built files with their content types and no-cache', TIMEOUT, async () => {
  const bundle = await get('/dist/local-agent/index.js');
  assert.equal(bundle.status, 200);
  assert.equal(bundle.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal(bundle.headers['cache-control'], 'no-cache');
  assert.match(bundle.text, /LocalAgent/);
  const script = await get('/demo/server.mjs', { method: 'HEAD' });
  assert.equal(script.status, 200);
  assert.equal(script.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal(script.text, '');
});

test('nothing outside demo/ and dist/ can be reached', TIMEOUT, async () => {
  for (const path of [
    '/package.json',
    '/demo/../package.json',
    '/dist/%2e%2e/package.json',
    '/dist/..%2f..%2fpackage.json',
    '/dist/..%5c..%5cpackage.json',
    '/dist/%00',
    '/dist/%E0%A4%A',
    '/src/server/index.ts',
    '/dist',
    '/dist/',
    '/dist/no-such-file.js',
  ]) {
    const answer = await get(path);
    assert.equal(answer.status, 404, `${path} → ${answer.status}`);
  }
  assert.equal((await get('/dist/local-agent/index.js', { method: 'POST' })).status, 405);
});

test('the token endpoint mints local-agent tokens for the page origin, and they connect', TIMEOUT, async (t) => {
  const answer = await get('/api/voice-token', {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json' },
    body: JSON.stringify({ agent_id: 'demo', variables: { greeting: '' } }),
  });
  assert.equal(answer.status, 200, answer.text);
  const { access_token: token, url } = JSON.parse(answer.text);
  assert.equal(url, `${origin.replace('http', 'ws')}/atoms/v1/agent/connect`);
  assert.ok(!answer.text.includes('sk_'));

  const ws = new WebSocket(`${url}?token=${token}`);
  t.after(() => ws.terminate());
  const created = await new Promise((resolve, reject) => {
    ws.once('message', (data) => resolve(JSON.parse(String(data))));
    ws.once('error', reject);
  });
  assert.equal(created.type, 'session.created');

  const foreign = await get('/api/voice-token', {
    method: 'POST',
    headers: { origin: 'https://elsewhere.example', 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(foreign.status, 403);
});

test('SIGTERM shuts the server down cleanly', TIMEOUT, async () => {
  const exited = new Promise((resolve) => demo.once('exit', (code, signal) => resolve({ code, signal })));
  demo.kill('SIGTERM');
  assert.deepEqual(await exited, { code: 0, signal: null });
  assert.ok(!output.includes('sk_'), output);
});
