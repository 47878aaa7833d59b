import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { test } from 'node:test';
import { MemoryRateLimitStore, createTokenHandler, toNodeHandler, withClientAddress } from '../../dist/server/index.js';
import {
  KEY,
  ORIGIN,
  TIMEOUT,
  UPSTREAM_DETAIL,
  UPSTREAM_SECRET,
  answerOf,
  assertError,
  fakeUpstream,
  fetchRequest,
  firstFrame,
  localAgentFixture,
  minted,
  request,
  serve,
  serveTokenHandler,
  serveUpstream,
} from '../support/local-agent-fixture.mjs';

/** The real upstream: a local agent that answers register-call like Atoms. */
const local = localAgentFixture({ apiKey: KEY, greeting: '' });

/** Serves a token handler (by default in front of the local agent) through toNodeHandler and resolves with its URL. */
const serveHandler = (t, options = {}) => serveTokenHandler(t, { upstream: local.agent.restBaseUrl, ...options });

test('the built token handler has no Node imports or globals, so it loads on any runtime', () => {
  const source = readFileSync(new URL('../../dist/server/index.js', import.meta.url), 'utf8');
  const imports = [...source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]/gm)].map((m) => m[1]);
  assert.deepEqual(imports, [], 'no imports at all');
  assert.doesNotMatch(source, /['"]node:/);
  assert.doesNotMatch(source, /\brequire\s*\(/);
  assert.doesNotMatch(source, /\bimport\s*\(/);
  assert.doesNotMatch(source, /\b(Buffer|process|__dirname|setImmediate)\b/);
  assert.match(source, /export\s*\{[^}]*\bcreateTokenHandler\b[^}]*\btoNodeHandler\b|export\s*\{[^}]*\btoNodeHandler\b[^}]*\bcreateTokenHandler\b/);
});

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
    { ...base, agentId: 'a', allowAgentIds: ['b'] },
    { ...base, allowAgentIds: [] },
    { ...base, allowAgentIds: 'agent-1' },
    { ...base, allowAgentIds: ['ok', 'not ok'] },
    { ...base, modes: [] },
    { ...base, modes: ['video'] },
    { ...base, modes: 'chat' },
    { ...base, upstream: 'ftp://example.com' },
    { ...base, baseUrl: 'ftp://example.com' },
    { ...base, upstream: 'https://a.example/atoms/v1', baseUrl: 'https://b.example/atoms/v1' },
    { ...base, connectUrl: 'http://example.com/ws' },
    { ...base, timeoutMs: 0 },
    { ...base, fetch: 'fetch' },
    { ...base, rateLimit: true },
    { ...base, rateLimit: { limit: 0 } },
    { ...base, rateLimit: { limit: 1.5 } },
    { ...base, rateLimit: { windowMs: 0 } },
    { ...base, rateLimit: { store: {} } },
    { ...base, rateLimit: { clientKey: 'ip' } },
    { ...base, rateLimit: { trustProxy: -1 } },
  ];
  for (const options of invalid) {
    assert.throws(
      () => createTokenHandler(options),
      (error) => error instanceof Error && /createTokenHandler/.test(error.message),
      JSON.stringify(options),
    );
  }
  const handler = createTokenHandler({ apiKey: KEY, allowedOrigins: [], allowRequestsWithoutOrigin: true });
  assert.equal(typeof handler, 'function');
  assert.equal(handler.maxBodyBytes, 8 * 1024);
  assert.throws(() => toNodeHandler('handler'), /toNodeHandler/);
  assert.throws(() => toNodeHandler(handler, { maxBodyBytes: 0 }), /toNodeHandler/);
});

test('a valid request gets a token from the agent that connects, with CORS and no-store', TIMEOUT, async (t) => {
  const url = await serveHandler(t, { connectUrl: local.agent.connectUrl });
  const answer = await request(url, { body: { agent_id: 'agent-1', mode: 'chat', variables: { name: 'Ada', vip: true, visits: 2 } } });
  assert.equal(answer.status, 200, answer.text);
  assert.deepEqual(Object.keys(answer.json).sort(), ['access_token', 'expires_in', 'sample_rate', 'url']);
  assert.match(answer.json.access_token, /^wct_/);
  assert.equal(answer.json.expires_in, 30);
  assert.equal(answer.json.sample_rate, 24000);
  assert.equal(answer.json.url, local.agent.connectUrl);
  assert.equal(answer.headers['cache-control'], 'no-store');
  assert.equal(answer.headers['access-control-allow-origin'], ORIGIN);
  assert.equal(answer.headers.vary, 'Origin');
  assert.equal(answer.headers['content-length'], String(Buffer.byteLength(answer.text)));

  const created = await firstFrame(t, answer.json.url, answer.json.access_token);
  assert.equal(created.type, 'session.created');
  const session = local.agent.sessions.find((s) => s.sessionId === created.session_id);
  assert.deepEqual(
    { agentId: session.agentId, mode: session.mode, variables: session.variables },
    { agentId: 'agent-1', mode: 'chat', variables: { name: 'Ada', vip: true, visits: 2 } },
  );
});

test('the Fetch handler serves a plain Request, as Workers, Deno, Bun and Next.js call it', TIMEOUT, async (t) => {
  const handler = createTokenHandler({ apiKey: KEY, upstream: local.agent.restBaseUrl, connectUrl: local.agent.connectUrl, allowedOrigins: [ORIGIN] });
  const response = await handler(fetchRequest({ body: { agent_id: 'fetch-agent', variables: { greeting: '' } } }));
  assert.ok(response instanceof Response);
  const answer = await answerOf(response);
  assert.equal(answer.status, 200, answer.text);
  assert.equal(answer.headers['access-control-allow-origin'], ORIGIN);
  assert.equal(answer.headers['cache-control'], 'no-store');
  const created = await firstFrame(t, answer.json.url, answer.json.access_token);
  assert.equal(created.type, 'session.created');
  assert.equal(local.agent.sessions.find((s) => s.sessionId === created.session_id).agentId, 'fetch-agent');

  assertError(await answerOf(await handler(fetchRequest({ method: 'GET' }))), 405, 'method_not_allowed');
  assertError(await answerOf(await handler(fetchRequest({ origin: 'https://evil.example' }))), 403, 'origin_not_allowed');
  assertError(await answerOf(await handler(fetchRequest({ contentType: 'text/plain' }))), 415, 'unsupported_media_type');
  assertError(await answerOf(await handler(fetchRequest({ body: '{"agent_id":' }))), 400, 'invalid_request');
  const preflight = await handler(fetchRequest({ method: 'OPTIONS', contentType: undefined }));
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), ORIGIN);
});

test('the Fetch handler stops reading a streamed body past the limit, whatever Content-Length says', TIMEOUT, async () => {
  const handler = createTokenHandler({ apiKey: KEY, upstream: local.agent.restBaseUrl, allowedOrigins: [ORIGIN] });
  // An endless body: the handler must answer 413 and cancel the stream instead of reading it all.
  let pulled = 0;
  let cancelled = false;
  const endless = new ReadableStream({
    pull(controller) {
      pulled += 1024;
      controller.enqueue(new TextEncoder().encode(' '.repeat(1024)));
    },
    cancel() {
      cancelled = true;
    },
  });
  assertError(await answerOf(await handler(fetchRequest({ body: endless }))), 413, 'payload_too_large');
  assert.ok(cancelled, 'the stream was cancelled');
  assert.ok(pulled <= 12 * 1024, `read ${pulled} bytes`);

  // A small Content-Length does not make a large body acceptable.
  const lying = new Request('https://site.example/api/voice-token', {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/json', 'content-length': '20' },
    body: JSON.stringify({ agent_id: 'agent-1', padding: 'y'.repeat(9000) }),
  });
  assertError(await answerOf(await handler(lying)), 413, 'payload_too_large');

  // Bytes that are not UTF-8 are refused, not guessed at.
  const binary = new Request('https://site.example/api/voice-token', {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/json' },
    body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
  });
  assertError(await answerOf(await handler(binary)), 400, 'invalid_request');
});

test('without connectUrl the answer has no url; a content type with parameters is fine', TIMEOUT, async (t) => {
  const url = await serveHandler(t);
  const answer = await request(url, { contentType: 'application/json; charset=utf-8' });
  assert.equal(answer.status, 200, answer.text);
  assert.equal('url' in answer.json, false);
});

test('baseUrl, the former name of upstream, still works', TIMEOUT, async (t) => {
  const url = await serveHandler(t, { upstream: undefined, baseUrl: local.agent.restBaseUrl });
  const answer = await request(url);
  assert.equal(answer.status, 200, answer.text);
  assert.match(answer.json.access_token, /^wct_/);
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
  const refused = await request(url, { method: 'OPTIONS', origin: 'https://evil.example' });
  assertError(refused, 403, 'origin_not_allowed');
  assert.equal(refused.headers['access-control-allow-origin'], undefined);
  assert.equal(refused.headers['access-control-allow-methods'], undefined);
});

test('methods other than POST and OPTIONS get 405 with Allow', TIMEOUT, async (t) => {
  const url = await serveHandler(t);
  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
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
  assertError(await request(strict, { origin: 'null' }), 403, 'origin_not_allowed');
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
    const declared = await request(url, { body });
    assertError(declared, 413, 'payload_too_large');
    assert.equal(declared.headers.connection, 'close');
    assertError(await request(url, { body, chunked: true }), 413, 'payload_too_large');
  }
  assert.equal((await request(url, { body: { agent_id: 'agent-1', padding: 'y'.repeat(7000) }, chunked: true })).status, 200);
});

test('invalid JSON or fields get 400 invalid_request', TIMEOUT, async (t) => {
  const url = await serveHandler(t);
  const manyKeys = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]));
  const invalid = [
    '',
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
  const created = await firstFrame(t, local.agent.connectUrl, answer.json.access_token);
  assert.equal(local.agent.sessions.find((s) => s.sessionId === created.session_id).agentId, 'pinned-agent');
});

test('allowAgentIds mints only for the listed agents, and for the only one when a request names none', TIMEOUT, async () => {
  const upstream = fakeUpstream(minted);
  const handler = createTokenHandler({ apiKey: KEY, allowedOrigins: [ORIGIN], fetch: upstream.fetch, allowAgentIds: ['sales', 'support'] });
  for (const agentId of ['sales', 'support']) {
    assert.equal((await answerOf(await handler(fetchRequest({ body: { agent_id: agentId } })))).status, 200);
  }
  const refused = await answerOf(await handler(fetchRequest({ body: { agent_id: 'billing' } })));
  assertError(refused, 400, 'invalid_request');
  assert.match(refused.json.error.message, /agent_id/);
  assertError(await answerOf(await handler(fetchRequest({ body: {} }))), 400, 'invalid_request');
  assert.deepEqual(
    upstream.calls.map((call) => call.body.agent_id),
    ['sales', 'support'],
  );

  const single = fakeUpstream(minted);
  const only = createTokenHandler({ apiKey: KEY, allowedOrigins: [ORIGIN], fetch: single.fetch, allowAgentIds: ['sales'] });
  assert.equal((await answerOf(await only(fetchRequest({ body: {} })))).status, 200);
  assert.equal(single.calls[0].body.agent_id, 'sales');
});

test('modes limits the call modes, and a request without one gets an allowed mode', TIMEOUT, async () => {
  const upstream = fakeUpstream(minted);
  const chatOnly = createTokenHandler({ apiKey: KEY, allowedOrigins: [ORIGIN], fetch: upstream.fetch, modes: ['chat'] });
  const refused = await answerOf(await chatOnly(fetchRequest({ body: { agent_id: 'a', mode: 'webcall' } })));
  assertError(refused, 400, 'invalid_request');
  assert.match(refused.json.error.message, /webcall/);
  assert.equal((await answerOf(await chatOnly(fetchRequest({ body: { agent_id: 'a', mode: 'chat' } })))).status, 200);
  assert.equal((await answerOf(await chatOnly(fetchRequest({ body: { agent_id: 'a' } })))).status, 200);
  assert.deepEqual(
    upstream.calls.map((call) => call.body.mode),
    ['chat', 'chat'],
  );

  const both = fakeUpstream(minted);
  const handler = createTokenHandler({ apiKey: KEY, allowedOrigins: [ORIGIN], fetch: both.fetch });
  for (const body of [{ agent_id: 'a' }, { agent_id: 'a', mode: 'chat' }, { agent_id: 'a', mode: 'webcall' }]) {
    assert.equal((await answerOf(await handler(fetchRequest({ body })))).status, 200);
  }
  assert.deepEqual(
    both.calls.map((call) => call.body.mode),
    ['webcall', 'chat', 'webcall'],
  );
});

test('each upstream refusal maps to its own JSON error without passing on the upstream body', TIMEOUT, async () => {
  const cases = [
    { status: 400, body: { status: false, errors: ['agent_id is required'] }, answer: [502, 'upstream_bad_request'] },
    { status: 400, body: { status: false, errors: ['Your organization has no credits left'] }, answer: [502, 'upstream_no_credits'] },
    { status: 402, body: { status: false, errors: [UPSTREAM_DETAIL] }, answer: [502, 'upstream_no_credits'] },
    { status: 401, body: { status: false, errors: ['Unauthorized'] }, answer: [502, 'upstream_unauthorized'] },
    { status: 403, body: { status: false, errors: ['Forbidden'] }, answer: [502, 'upstream_unauthorized'] },
    { status: 404, body: { status: false, errors: ['Agent not found'] }, answer: [502, 'upstream_agent_not_found'] },
    { status: 429, body: { status: false }, headers: { 'retry-after': '17' }, answer: [503, 'upstream_rate_limited'], retryAfter: '17' },
    {
      status: 429,
      body: { status: false },
      headers: { 'retry-after': 'Wed, 21 Oct 2037 07:28:00 GMT' },
      answer: [503, 'upstream_rate_limited'],
      retryAfter: 'Wed, 21 Oct 2037 07:28:00 GMT',
    },
    { status: 429, body: { status: false }, headers: { 'retry-after': 'soon' }, answer: [503, 'upstream_rate_limited'] },
    { status: 429, body: { status: false }, answer: [503, 'upstream_rate_limited'] },
    { status: 500, body: { status: false, errors: [UPSTREAM_DETAIL], key: UPSTREAM_SECRET }, answer: [502, 'upstream_failed'] },
    { status: 503, body: { status: false }, answer: [502, 'upstream_failed'] },
    { status: 302, body: {}, headers: { location: 'https://login.example/' }, answer: [502, 'upstream_failed'] },
  ];
  const codes = new Set();
  for (const { status, body, headers = {}, answer: [expectedStatus, code], retryAfter } of cases) {
    const upstream = fakeUpstream(() => new Response(JSON.stringify({ ...body, debug: UPSTREAM_SECRET }), { status, headers }));
    const handler = createTokenHandler({ apiKey: KEY, allowedOrigins: [ORIGIN], fetch: upstream.fetch });
    const answer = await answerOf(await handler(fetchRequest()));
    assertError(answer, expectedStatus, code);
    assert.match(answer.json.error.message, new RegExp(`HTTP ${status}`));
    assert.equal(answer.headers['retry-after'], retryAfter, `${status} ${headers['retry-after']}`);
    codes.add(code);
  }
  // Six kinds of refusal, each with its own code.
  assert.equal(codes.size, 6);
});

test('upstream error statuses from a real server map the same way, and the browser may read Retry-After', TIMEOUT, async (t) => {
  const expected = { 400: 'upstream_bad_request', 401: 'upstream_unauthorized', 404: 'upstream_agent_not_found', 429: 'upstream_rate_limited', 500: 'upstream_failed' };
  for (const [status, code] of Object.entries(expected)) {
    const upstream = await serveUpstream(t, (req, res) => {
      res.writeHead(Number(status), { 'content-type': 'application/json', 'retry-after': '5' });
      res.end(JSON.stringify({ status: false, errors: [UPSTREAM_DETAIL], key: UPSTREAM_SECRET }));
    });
    const answer = await request(await serveHandler(t, { upstream }));
    assertError(answer, code === 'upstream_rate_limited' ? 503 : 502, code);
    assert.equal(answer.headers['retry-after'], code === 'upstream_rate_limited' ? '5' : undefined);
    assert.match(answer.headers['access-control-expose-headers'], /Retry-After/);
  }
});

test('an upstream that refuses the key gets upstream_unauthorized, without the key', TIMEOUT, async (t) => {
  const url = await serveHandler(t, { apiKey: 'sk_not_the_agents_key' });
  const answer = await request(url);
  assertError(answer, 502, 'upstream_unauthorized');
  assert.match(answer.json.error.message, /HTTP 401/);
  assert.ok(!answer.text.includes('sk_not_the_agents_key'));
});

test('an upstream that does not answer in time gets 504', TIMEOUT, async (t) => {
  const upstream = await serveUpstream(t, (req) => req.resume()); // reads the request, never answers
  const started = performance.now();
  const answer = await request(await serveHandler(t, { upstream, timeoutMs: 150 }));
  assertError(answer, 504, 'upstream_timeout');
  assert.match(answer.json.error.message, /150 ms/);
  assert.ok(performance.now() - started < 2000);

  // Headers in time, then a body that never ends: still a timeout.
  const trickle = await serveUpstream(t, (req, res) => {
    req.resume();
    res.writeHead(201, { 'content-type': 'application/json' });
    res.write('{"data":');
  });
  assertError(await request(await serveHandler(t, { upstream: trickle, timeoutMs: 150 })), 504, 'upstream_timeout');
});

test('an unusable upstream answer gets upstream_invalid_response', TIMEOUT, async (t) => {
  const answers = [
    { type: 'text/html', body: '<!doctype html><title>Sign in</title>' },
    { type: 'application/json', body: JSON.stringify({ status: true, data: {} }) },
    { type: 'application/json', body: JSON.stringify({ status: true, data: { access_token: 42 } }) },
    { type: 'application/json', body: JSON.stringify({ status: true, data: { access_token: UPSTREAM_SECRET } }) },
    { type: 'application/json', body: JSON.stringify({ access_token: KEY }) },
    { type: 'application/json', body: JSON.stringify({ access_token: `wct_${KEY}` }) },
  ];
  for (const { type, body } of answers) {
    const upstream = await serveUpstream(t, (req, res) => {
      res.writeHead(201, { 'content-type': type });
      res.end(body);
    });
    assertError(await request(await serveHandler(t, { upstream })), 502, 'upstream_invalid_response');
  }
});

test('an unreachable upstream gets upstream_unreachable', TIMEOUT, async (t) => {
  const closed = createServer();
  await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address();
  await new Promise((resolve) => closed.close(resolve));
  const answer = await request(await serveHandler(t, { upstream: `http://127.0.0.1:${port}/atoms/v1` }));
  assertError(answer, 502, 'upstream_unreachable');
});

test('the injected fetch gets the key, the route and the request; a throwing fetch becomes upstream_unreachable', TIMEOUT, async (t) => {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    return new Response(JSON.stringify({ access_token: 'wct_injected' }), { status: 201 });
  };
  const url = await serveHandler(t, { fetch, upstream: 'https://atoms.example/atoms/v1/' });
  const answer = await request(url, { body: { agent_id: 'agent-1', variables: { a: 'b' } } });
  assert.equal(answer.status, 200, answer.text);
  assert.deepEqual(answer.json, { access_token: 'wct_injected', expires_in: 30, sample_rate: 24000 });
  assert.equal(calls.length, 1);
  assert.equal(calls[0].url, 'https://atoms.example/atoms/v1/conversation/register-call');
  assert.equal(calls[0].init.method, 'POST');
  assert.equal(calls[0].init.headers.Authorization, `Bearer ${KEY}`);
  assert.equal(calls[0].init.redirect, 'manual');
  assert.deepEqual(JSON.parse(calls[0].init.body), { agent_id: 'agent-1', mode: 'webcall', variables: { a: 'b' } });

  const throwing = await serveHandler(t, {
    fetch: () => {
      throw new TypeError('no network');
    },
  });
  assertError(await request(throwing), 502, 'upstream_unreachable');
});

test('the rate limit counts each client in the store and answers 429 with Retry-After past the limit', TIMEOUT, async (t) => {
  let now = 1_000_000;
  const hits = [];
  const windows = new Map();
  // A store like a Redis one: async, a fixed window per key.
  const store = {
    async hit(key, windowMs) {
      hits.push({ key, windowMs });
      const current = windows.get(key);
      const window = current && current.resetAt > Date.now() ? current : { count: 0, resetAt: Date.now() + windowMs };
      window.count++;
      windows.set(key, window);
      return { count: window.count, resetAt: window.resetAt };
    },
  };
  t.mock.method(Date, 'now', () => now);
  const upstream = fakeUpstream(minted);
  const handler = createTokenHandler({
    apiKey: KEY,
    allowedOrigins: [ORIGIN],
    fetch: upstream.fetch,
    rateLimit: { limit: 2, windowMs: 60_000, store, clientKey: (request) => request.headers.get('x-client') },
  });
  const from = (client, options) => handler(fetchRequest({ ...options, headers: { 'x-client': client } }));

  assert.equal((await from('alice')).status, 200);
  assert.equal((await from('alice')).status, 200);
  now += 20_500;
  const limited = await answerOf(await from('alice'));
  assertError(limited, 429, 'rate_limited');
  assert.equal(limited.headers['retry-after'], '40');
  assert.equal(limited.headers['access-control-allow-origin'], ORIGIN);
  assert.match(limited.headers['access-control-expose-headers'], /Retry-After/);
  assert.equal(upstream.calls.length, 2, 'a limited request never reaches Atoms');
  assert.equal((await from('bob')).status, 200, 'another client has its own count');

  // Preflights and refused origins are not counted; invalid requests are.
  assert.equal((await from('carol', { method: 'OPTIONS', contentType: undefined })).status, 204);
  assert.equal((await from('carol', { origin: 'https://evil.example' })).status, 403);
  assert.equal((await from('carol', { body: '[]' })).status, 400);
  assert.equal((await from('carol')).status, 200);
  assert.equal((await from('carol')).status, 429);

  now += 40_000;
  assert.equal((await from('alice')).status, 200, 'a new window starts');
  assert.deepEqual(
    hits.map((hit) => hit.key),
    ['alice', 'alice', 'alice', 'bob', 'carol', 'carol', 'carol', 'alice'],
  );
  assert.ok(hits.every((hit) => hit.windowMs === 60_000));
});

test('a failing rate-limit store gets 503, not a token', TIMEOUT, async () => {
  const upstream = fakeUpstream(minted);
  for (const store of [{ hit: async () => Promise.reject(new Error('redis down')) }, { hit: () => ({ count: 'many' }) }]) {
    const handler = createTokenHandler({ apiKey: KEY, allowedOrigins: [ORIGIN], fetch: upstream.fetch, rateLimit: { store } });
    assertError(await answerOf(await handler(fetchRequest())), 503, 'rate_limit_unavailable');
  }
  assert.equal(upstream.calls.length, 0);
});

test('the default client key: the connection address through toNodeHandler, X-Forwarded-For only with trustProxy', TIMEOUT, async (t) => {
  const keys = [];
  const store = { hit: (key) => (keys.push(key), { count: 1, resetAt: Date.now() + 1000 }) };
  const upstream = fakeUpstream(minted);
  const spoofed = { 'x-forwarded-for': '198.51.100.7', 'cf-connecting-ip': '198.51.100.8', 'x-real-ip': '198.51.100.9' };

  const direct = await serveHandler(t, { fetch: upstream.fetch, rateLimit: { store } });
  assert.equal((await request(direct, { headers: spoofed })).status, 200);
  const proxied = await serveHandler(t, { fetch: upstream.fetch, rateLimit: { store, trustProxy: true } });
  assert.equal((await request(proxied, { headers: { 'x-forwarded-for': '198.51.100.7, 203.0.113.5' } })).status, 200);
  assert.equal((await request(proxied)).status, 200);
  const twoProxies = await serveHandler(t, { fetch: upstream.fetch, rateLimit: { store, trustProxy: 2 } });
  assert.equal((await request(twoProxies, { headers: { 'x-forwarded-for': '198.51.100.7, 203.0.113.5, 10.0.0.2' } })).status, 200);
  assert.deepEqual(keys, ['127.0.0.1', '203.0.113.5', '127.0.0.1', '203.0.113.5']);

  // Without a connection address (a Fetch runtime), the platform's header; IPv6 counts per /64.
  keys.length = 0;
  const handler = createTokenHandler({ apiKey: KEY, allowedOrigins: [ORIGIN], fetch: upstream.fetch, rateLimit: { store } });
  await handler(fetchRequest({ headers: { 'cf-connecting-ip': '203.0.113.1' } }));
  await handler(fetchRequest({ headers: { 'x-real-ip': '2001:db8:0:7:1:2:3:4' } }));
  await handler(fetchRequest({ headers: { 'cf-connecting-ip': '2001:db8::7:ffff' } }));
  await handler(fetchRequest({ headers: { 'cf-connecting-ip': '::ffff:192.0.2.4' } }));
  await handler(withClientAddress(fetchRequest({ headers: { 'cf-connecting-ip': '203.0.113.1' } }), '192.0.2.99'));
  await handler(fetchRequest());
  assert.deepEqual(keys, ['203.0.113.1', '2001:db8:0:7::/64', '2001:db8:0:0::/64', '192.0.2.4', '192.0.2.99', 'unknown']);
});

test('the default rate limit is 30 requests a minute per client, in memory', TIMEOUT, async () => {
  const upstream = fakeUpstream(minted);
  const handler = createTokenHandler({ apiKey: KEY, allowedOrigins: [ORIGIN], fetch: upstream.fetch });
  const statuses = [];
  for (let i = 0; i < 31; i++) statuses.push((await handler(withClientAddress(fetchRequest(), '192.0.2.1'))).status);
  assert.deepEqual(statuses, [...Array(30).fill(200), 429]);
  assert.equal((await handler(withClientAddress(fetchRequest(), '192.0.2.2'))).status, 200);
  const off = createTokenHandler({ apiKey: KEY, allowedOrigins: [ORIGIN], fetch: upstream.fetch, rateLimit: false });
  for (let i = 0; i < 40; i++) assert.equal((await off(fetchRequest())).status, 200);
});

test('MemoryRateLimitStore counts fixed windows and keeps its memory bounded', () => {
  let now = 0;
  const store = new MemoryRateLimitStore({ maxKeys: 3, now: () => now });
  assert.deepEqual(store.hit('a', 1000), { count: 1, resetAt: 1000 });
  now = 400;
  assert.deepEqual(store.hit('a', 1000), { count: 2, resetAt: 1000 });
  assert.deepEqual(store.hit('b', 1000), { count: 1, resetAt: 1400 });
  now = 1000;
  assert.deepEqual(store.hit('a', 1000), { count: 1, resetAt: 2000 }, 'the window ended: a new one');

  // Past maxKeys, the oldest window is forgotten first; expired ones go as new clients arrive.
  store.hit('c', 1000);
  store.hit('d', 1000);
  assert.equal(store.size, 3);
  assert.deepEqual(store.hit('b', 1000), { count: 1, resetAt: 2000 }, 'b was the oldest and was forgotten');
  assert.equal(store.size, 3);
  now = 5000;
  store.hit('e', 1000);
  assert.equal(store.size, 1, 'expired windows are dropped');

  for (let i = 0; i < 1000; i++) store.hit(`client-${i}`, 60_000);
  assert.equal(store.size, 3);
  assert.throws(() => new MemoryRateLimitStore({ maxKeys: 0 }), /maxKeys/);
});

test('toNodeHandler streams the body to any Fetch handler and stops reading past its limit', TIMEOUT, async (t) => {
  const seen = [];
  const echo = async (request) => {
    const bytes = (await request.arrayBuffer()).byteLength;
    seen.push({ bytes, method: request.method, url: request.url, origin: request.headers.get('origin') });
    return new Response(JSON.stringify({ bytes }), { headers: { 'content-type': 'application/json', 'set-cookie': 'a=1' } });
  };
  const url = await serve(t, toNodeHandler(echo, { maxBodyBytes: 1000 }));
  const small = await request(`${url}/echo?x=1`, { body: 'x'.repeat(900) });
  assert.equal(small.status, 200);
  assert.equal(small.json.bytes, 900);
  assert.deepEqual(small.headers['set-cookie'], ['a=1']);
  assert.deepEqual(seen[0], { bytes: 900, method: 'POST', url: `${url}/echo?x=1`, origin: ORIGIN });

  // A megabyte in many chunks: the handler gets no more than the limit plus the chunk that crossed it.
  const big = await new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/echo`, { method: 'POST', agent: false }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, json: JSON.parse(Buffer.concat(chunks)) }));
    });
    req.on('error', reject);
    const chunk = 'z'.repeat(512);
    let sent = 0;
    const write = () => {
      while (sent < 1024 * 1024) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
  assert.equal(big.status, 200);
  assert.ok(big.json.bytes > 1000 && big.json.bytes <= 1000 + 64 * 1024, `${big.json.bytes} bytes passed on`);
  assert.equal(big.headers.connection, 'close');
});

test('toNodeHandler never throws: a failing handler gets 500, and a client that goes away gets nothing', TIMEOUT, async (t) => {
  const failing = await serve(
    t,
    toNodeHandler(async () => {
      throw new Error('boom');
    }),
  );
  assertError(await request(failing), 500, 'internal_error');
  const notAResponse = await serve(
    t,
    toNodeHandler(async () => 'ok'),
  );
  assertError(await request(notAResponse), 500, 'internal_error');

  // A client that sends half a body and disconnects: the handler's read fails, the listener settles.
  let settled;
  const done = new Promise((resolve) => (settled = resolve));
  const read = [];
  const node = toNodeHandler(async (request) => {
    try {
      await request.text();
      read.push('complete');
    } catch {
      read.push('failed');
    }
    return new Response('late');
  });
  const url = await serve(t, (req, res) => {
    void node(req, res).then(() => settled({ destroyed: res.destroyed, headersSent: res.headersSent }));
  });
  const req = httpRequest(url, { method: 'POST', headers: { 'content-length': '1000' }, agent: false });
  req.on('error', () => {});
  req.write('x'.repeat(100), () => setImmediate(() => req.destroy()));
  assert.deepEqual(await done, { destroyed: true, headersSent: false });
  assert.deepEqual(read, ['failed']);
});

test('a client that goes away while Atoms is asked cancels the upstream call', TIMEOUT, async (t) => {
  let upstreamSignal;
  let asked;
  const reached = new Promise((resolve) => (asked = resolve));
  const fetch = (url, init) =>
    new Promise((resolve, reject) => {
      upstreamSignal = init.signal;
      asked();
      init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
    });
  const url = await serveHandler(t, { fetch });
  const req = httpRequest(url, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' }, agent: false });
  req.on('error', () => {});
  req.end(JSON.stringify({ agent_id: 'agent-1' }));
  await reached;
  const aborted = new Promise((resolve) => upstreamSignal.addEventListener('abort', resolve));
  req.destroy();
  await aborted;
  assert.equal(upstreamSignal.aborted, true);
});

test('toNodeHandler takes a body that express.json() already read from req.body', TIMEOUT, async (t) => {
  const upstream = fakeUpstream(minted);
  const node = toNodeHandler(createTokenHandler({ apiKey: KEY, allowedOrigins: [ORIGIN], fetch: upstream.fetch }));
  const url = await serve(t, (req, res) => {
    // What a JSON body parser does before the route runs.
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      req.body = JSON.parse(Buffer.concat(chunks).toString());
      void node(req, res);
    });
  });
  const answer = await request(url, { body: { agent_id: 'parsed-agent', variables: { a: 1 } } });
  assert.equal(answer.status, 200, answer.text);
  assert.deepEqual(upstream.calls[0].body, { agent_id: 'parsed-agent', mode: 'webcall', variables: { a: 1 } });
});
