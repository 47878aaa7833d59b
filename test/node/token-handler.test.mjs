import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { createTokenHandler } from '../../dist/server/index.js';
import { LocalAgent } from '../../dist/local-agent/index.js';

const KEY = 'sk_local_dev';
const ORIGIN = 'http://app.example:3000';
const UPSTREAM_SECRET = 'sk_live_upstream_leak';
const UPSTREAM_DETAIL = 'internal upstream detail';
const TIMEOUT = { timeout: 15_000 };

/** The real upstream: a local agent that answers register-call like Atoms. */
let agent;
before(async () => {
  agent = await LocalAgent.start({ apiKey: KEY, greeting: '' });
});
after(() => agent.close());

/** Serves `handler` on 127.0.0.1 until the test ends; resolves with the server's origin. */
async function serve(t, handler) {
  const server = createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${server.address().port}`;
}

/** Serves a token handler (by default in front of the local agent) and resolves with its URL. */
async function serveHandler(t, options = {}) {
  const handler = createTokenHandler({ apiKey: KEY, baseUrl: agent.restBaseUrl, allowedOrigins: [ORIGIN], ...options });
  return `${await serve(t, (req, res) => void handler(req, res))}/api/voice-token`;
}

/** An upstream that misbehaves; resolves with the `baseUrl` to give the handler. */
async function serveUpstream(t, respond) {
  return `${await serve(t, respond)}/atoms/v1`;
}

/**
 * A raw HTTP request, so Origin and Content-Type are exactly what the test says. Every answer is
 * checked for secrets: no key, upstream body or upstream token may ever reach the browser.
 */
async function request(
  url,
  { method = 'POST', origin = ORIGIN, contentType = 'application/json', body = { agent_id: 'agent-1' }, chunked = false } = {},
) {
  const headers = { ...(origin && { origin }), ...(contentType && { 'content-type': contentType }) };
  const payload = method === 'POST' && body !== undefined ? (typeof body === 'string' ? body : JSON.stringify(body)) : undefined;
  const answer = await new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (chunked) {
      // Written in two parts, the body goes out chunked, with no Content-Length to judge it by.
      const half = Math.floor(payload.length / 2);
      req.write(payload.slice(0, half));
      req.end(payload.slice(half));
    } else {
      req.end(payload);
    }
  });
  const everything = JSON.stringify(answer.headers) + answer.text;
  for (const secret of [KEY, UPSTREAM_SECRET, UPSTREAM_DETAIL, 'sk_']) {
    assert.ok(!everything.includes(secret), `the answer must not contain ${secret}: ${everything}`);
  }
  return { ...answer, json: answer.text ? JSON.parse(answer.text) : undefined };
}

function assertError(answer, status, code) {
  assert.equal(answer.status, status, answer.text);
  assert.deepEqual(Object.keys(answer.json), ['error']);
  assert.equal(answer.json.error.code, code);
  assert.equal(typeof answer.json.error.message, 'string');
  assert.ok(answer.json.error.message.length > 0);
  assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(answer.headers['cache-control'], 'no-store');
}

test('createTokenHandler rejects unusable options at once', () => {
  const base = { apiKey: KEY, allowedOrigins: [ORIGIN] };
  const invalid = [
    undefined,
    { ...base, apiKey: undefined },
    { ...base, apiKey: '' },
    { ...base, apiKey: '   ' },
    { ...base, allowedOrigins: undefined },
    { ...base, allowedOrigins: [] },
    { ...base, allowedOrigins: ['https://example.com/'] },
    { ...base, allowedOrigins: ['example.com'] },
    { ...base, agentId: 'has spaces' },
    { ...base, baseUrl: 'ftp://example.com' },
    { ...base, connectUrl: 'http://example.com/ws' },
    { ...base, timeoutMs: 0 },
    { ...base, fetch: 'fetch' },
  ];
  for (const options of invalid) {
    assert.throws(() => createTokenHandler(options), (error) => error instanceof Error && /createTokenHandler/.test(error.message));
  }
  assert.equal(typeof createTokenHandler({ apiKey: KEY, allowedOrigins: [], allowRequestsWithoutOrigin: true }), 'function');
});

test('a valid request gets a token from the agent that connects, with CORS and no-store', TIMEOUT, async (t) => {
  const url = await serveHandler(t, { connectUrl: agent.connectUrl });
  const answer = await request(url, { body: { agent_id: 'agent-1', mode: 'chat', variables: { name: 'Ada', vip: true, visits: 2 } } });
  assert.equal(answer.status, 200, answer.text);
  assert.deepEqual(Object.keys(answer.json).sort(), ['access_token', 'expires_in', 'sample_rate', 'url']);
  assert.match(answer.json.access_token, /^wct_/);
  assert.equal(answer.json.expires_in, 30);
  assert.equal(answer.json.sample_rate, 24000);
  assert.equal(answer.json.url, agent.connectUrl);
  assert.equal(answer.headers['cache-control'], 'no-store');
  assert.equal(answer.headers['access-control-allow-origin'], ORIGIN);
  assert.equal(answer.headers.vary, 'Origin');

  const ws = new WebSocket(`${answer.json.url}?token=${answer.json.access_token}`);
  t.after(() => ws.terminate());
  const created = await new Promise((resolve, reject) => {
    ws.once('message', (data) => resolve(JSON.parse(String(data))));
    ws.once('error', reject);
  });
  assert.equal(created.type, 'session.created');
  const session = agent.sessions.find((s) => s.sessionId === created.session_id);
  assert.deepEqual(
    { agentId: session.agentId, mode: session.mode, variables: session.variables },
    { agentId: 'agent-1', mode: 'chat', variables: { name: 'Ada', vip: true, visits: 2 } },
  );
});

test('without connectUrl the answer has no url; a content type with parameters is fine', TIMEOUT, async (t) => {
  const url = await serveHandler(t);
  const answer = await request(url, { contentType: 'application/json; charset=utf-8' });
  assert.equal(answer.status, 200, answer.text);
  assert.equal('url' in answer.json, false);
});

test('a CORS preflight from an allowed origin gets 204 with the CORS headers', TIMEOUT, async (t) => {
  const url = await serveHandler(t);
  const answer = await request(url, { method: 'OPTIONS', contentType: undefined });
  assert.equal(answer.status, 204);
  assert.equal(answer.text, '');
  assert.equal(answer.headers['access-control-allow-origin'], ORIGIN);
  assert.equal(answer.headers['access-control-allow-methods'], 'POST');
  assert.equal(answer.headers['access-control-allow-headers'], 'content-type');
  assert.equal(answer.headers['access-control-max-age'], '600');
  assert.equal(answer.headers.vary, 'Origin');
  assertError(await request(url, { method: 'OPTIONS', origin: 'https://evil.example' }), 403, 'origin_not_allowed');
});

test('methods other than POST and OPTIONS get 405 with Allow', TIMEOUT, async (t) => {
  const url = await serveHandler(t);
  for (const method of ['GET', 'PUT', 'DELETE']) {
    const answer = await request(url, { method });
    assertError(answer, 405, 'method_not_allowed');
    assert.equal(answer.headers.allow, 'POST, OPTIONS');
  }
});

test('an unknown or missing Origin gets 403 unless requests without one are allowed', TIMEOUT, async (t) => {
  const strict = await serveHandler(t);
  const forbidden = await request(strict, { origin: 'https://evil.example' });
  assertError(forbidden, 403, 'origin_not_allowed');
  assert.equal(forbidden.headers['access-control-allow-origin'], undefined);
  assertError(await request(strict, { origin: 'http://app.example:3001' }), 403, 'origin_not_allowed');
  assertError(await request(strict, { origin: null }), 403, 'origin_not_allowed');

  const lenient = await serveHandler(t, { allowRequestsWithoutOrigin: true });
  const answer = await request(lenient, { origin: null });
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.headers['access-control-allow-origin'], undefined);
  assertError(await request(lenient, { origin: 'https://evil.example' }), 403, 'origin_not_allowed');
});

test('a body that is not JSON gets 415', TIMEOUT, async (t) => {
  const url = await serveHandler(t);
  assertError(await request(url, { contentType: 'text/plain' }), 415, 'unsupported_media_type');
  assertError(await request(url, { contentType: null }), 415, 'unsupported_media_type');
  assertError(await request(url, { contentType: 'application/x-www-form-urlencoded', body: 'agent_id=a' }), 415, 'unsupported_media_type');
});

test('a body over 8 KB gets 413', TIMEOUT, async (t) => {
  const url = await serveHandler(t);
  for (const size of [8 * 1024, 1024 * 1024]) {
    const body = { agent_id: 'agent-1', padding: 'y'.repeat(size) };
    assertError(await request(url, { body }), 413, 'payload_too_large');
    assertError(await request(url, { body, chunked: true }), 413, 'payload_too_large');
  }
  assert.equal((await request(url, { body: { agent_id: 'agent-1', padding: 'y'.repeat(7000) }, chunked: true })).status, 200);
});

test('invalid JSON or fields get 400 invalid_request', TIMEOUT, async (t) => {
  const url = await serveHandler(t);
  const manyKeys = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]));
  const invalid = [
    '{"agent_id":',
    '[]',
    '"agent-1"',
    {},
    { agent_id: '' },
    { agent_id: 'has space' },
    { agent_id: 'x'.repeat(129) },
    { agent_id: 42 },
    { agent_id: 'agent-1', mode: 'video' },
    { agent_id: 'agent-1', variables: 'name=Ada' },
    { agent_id: 'agent-1', variables: ['Ada'] },
    { agent_id: 'agent-1', variables: manyKeys },
    { agent_id: 'agent-1', variables: { ['k'.repeat(65)]: 1 } },
    { agent_id: 'agent-1', variables: { '': 1 } },
    { agent_id: 'agent-1', variables: { long: 'x'.repeat(1001) } },
    { agent_id: 'agent-1', variables: { nested: { a: 1 } } },
    { agent_id: 'agent-1', variables: { nothing: null } },
  ];
  for (const body of invalid) assertError(await request(url, { body }), 400, 'invalid_request');

  const fine = { agent_id: 'team:agent_1.v-2', variables: { ['k'.repeat(64)]: 'x'.repeat(1000), n: 1.5, b: false } };
  assert.equal((await request(url, { body: fine })).status, 200);
});

test('a pinned agentId is used when the request names none and enforced when it does', TIMEOUT, async (t) => {
  const url = await serveHandler(t, { agentId: 'pinned-agent' });
  const answer = await request(url, { body: {} });
  assert.equal(answer.status, 200, answer.text);
  assertError(await request(url, { body: { agent_id: 'other-agent' } }), 400, 'invalid_request');
  const before = agent.sessions.length;
  const ws = new WebSocket(`${agent.connectUrl}?token=${answer.json.access_token}`);
  t.after(() => ws.terminate());
  await new Promise((resolve, reject) => ws.once('message', resolve).once('error', reject));
  assert.equal(agent.sessions[before].agentId, 'pinned-agent');
});

test('an upstream that refuses the key gets 502 naming its status', TIMEOUT, async (t) => {
  const url = await serveHandler(t, { apiKey: 'sk_not_the_agents_key' });
  const answer = await request(url);
  assertError(answer, 502, 'upstream_failed');
  assert.match(answer.json.error.message, /HTTP 401/);
  assert.ok(!answer.text.includes('sk_not_the_agents_key'));
});

test('upstream error statuses become 502 without passing on the upstream body', TIMEOUT, async (t) => {
  for (const status of [400, 404, 429, 500, 503]) {
    const baseUrl = await serveUpstream(t, (req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: false, errors: [UPSTREAM_DETAIL], key: UPSTREAM_SECRET }));
    });
    const answer = await request(await serveHandler(t, { baseUrl }));
    assertError(answer, 502, 'upstream_failed');
    assert.match(answer.json.error.message, new RegExp(`HTTP ${status}`));
  }
});

test('an upstream that does not answer in time gets 504', TIMEOUT, async (t) => {
  const baseUrl = await serveUpstream(t, (req) => req.resume()); // reads the request, never answers
  const started = performance.now();
  const answer = await request(await serveHandler(t, { baseUrl, timeoutMs: 150 }));
  assertError(answer, 504, 'upstream_timeout');
  assert.ok(performance.now() - started < 2000);
});

test('an unusable upstream answer gets 502', TIMEOUT, async (t) => {
  const answers = [
    { type: 'text/html', body: '<!doctype html><title>Sign in</title>' },
    { type: 'application/json', body: JSON.stringify({ status: true, data: {} }) },
    { type: 'application/json', body: JSON.stringify({ status: true, data: { access_token: 42 } }) },
    { type: 'application/json', body: JSON.stringify({ status: true, data: { access_token: UPSTREAM_SECRET } }) },
    { type: 'application/json', body: JSON.stringify({ access_token: KEY }) },
  ];
  for (const { type, body } of answers) {
    const baseUrl = await serveUpstream(t, (req, res) => {
      res.writeHead(201, { 'content-type': type });
      res.end(body);
    });
    assertError(await request(await serveHandler(t, { baseUrl })), 502, 'upstream_failed');
  }
});

test('an unreachable upstream gets 502', TIMEOUT, async (t) => {
  const closed = createServer();
  await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address();
  await new Promise((resolve) => closed.close(resolve));
  const answer = await request(await serveHandler(t, { baseUrl: `http://127.0.0.1:${port}/atoms/v1` }));
  assertError(answer, 502, 'upstream_failed');
});

test('the injected fetch gets the key, the route and the request; a throwing fetch becomes 502', TIMEOUT, async (t) => {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    return new Response(JSON.stringify({ access_token: 'wct_injected' }), { status: 201 });
  };
  const url = await serveHandler(t, { fetch, baseUrl: 'https://atoms.example/atoms/v1/' });
  const answer = await request(url, { body: { agent_id: 'agent-1', variables: { a: 'b' } } });
  assert.equal(answer.status, 200, answer.text);
  assert.deepEqual(answer.json, { access_token: 'wct_injected', expires_in: 30, sample_rate: 24000 });
  assert.equal(calls.length, 1);
  assert.equal(calls[0].url, 'https://atoms.example/atoms/v1/conversation/register-call');
  assert.equal(calls[0].init.method, 'POST');
  assert.equal(calls[0].init.headers.Authorization, `Bearer ${KEY}`);
  assert.deepEqual(JSON.parse(calls[0].init.body), { agent_id: 'agent-1', mode: 'webcall', variables: { a: 'b' } });

  const throwing = await serveHandler(t, {
    fetch: () => {
      throw new TypeError('no network');
    },
  });
  assertError(await request(throwing), 502, 'upstream_failed');
});
