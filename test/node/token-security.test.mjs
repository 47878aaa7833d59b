/**
 * The token endpoint under attack: each promise of README's "Threat model" tried the hard way. Origins
 * that are almost the allowed one, methods, media types and bodies that are almost acceptable, agents
 * and modes that are almost allowed, clients that rotate their address, and every path (success and
 * each failure, upstreams that echo the key back) run while the console, stdout, stderr, process
 * warnings and unhandled rejections are recorded: the key is in no log line, response body or header,
 * no upstream body or header is passed on, and every error has the one shape.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { MemoryRateLimitStore, createTokenHandler, toNodeHandler, withClientAddress } from '../../dist/server/index.js';
import {
  ERROR_STATUS,
  KEY,
  ORIGIN,
  TIMEOUT,
  UPSTREAM_DETAIL,
  UPSTREAM_SECRET,
  answerOf,
  assertError,
  assertNoSecrets,
  fakeUpstream,
  fetchRequest,
  minted,
  request,
  serve,
  serveTokenHandler,
  serveUpstream,
} from '../support/local-agent-fixture.mjs';

const SITE = 'https://app.example';
const DEV = 'http://localhost:8080';
/** What an upstream that echoes everything puts in its answers. */
const ECHOED = `${KEY} ${UPSTREAM_SECRET} ${UPSTREAM_DETAIL}`;

/** A token handler for SITE and DEV in front of `upstream` (a fakeUpstream), not rate limited unless asked. */
function tokens(upstream, options = {}) {
  return createTokenHandler({ apiKey: KEY, allowedOrigins: [SITE, DEV], fetch: upstream.fetch, rateLimit: false, ...options });
}

/** Asks `handler` with a Fetch-API request (`fetchRequest` options; Origin SITE unless given) and reads the answer. */
async function ask(handler, { origin = SITE, ...options } = {}) {
  return answerOf(await handler(fetchRequest({ origin, ...options })));
}

/** A JSON body of exactly `bytes` bytes asking for agent-1 (JSON allows the padding spaces). */
function bodyOfSize(bytes) {
  const json = '{"agent_id":"agent-1"}';
  return json + ' '.repeat(bytes - json.length);
}

/**
 * Sends a request to `url` byte for byte: `head` is the request line and header lines (strings, as
 * Latin-1, or Buffers), each sent as it is. Resolves with the answer once the server closes the
 * connection; `body` may be a function that keeps writing to the socket until then.
 */
function rawRequest(url, head, body = '') {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks = [];
    const socket = connect(Number(port), '127.0.0.1', () => {
      for (const line of [...head, 'Host: 127.0.0.1', 'Connection: close', '']) socket.write(Buffer.concat([Buffer.from(line, 'latin1'), Buffer.from('\r\n')]));
      if (typeof body === 'function') body(socket);
      else socket.write(body);
    });
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error) => (chunks.length > 0 ? undefined : reject(error)));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
      const headers = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const answerText = text.slice(split + 4);
      assertNoSecrets(headers, answerText);
      resolve({ status: Number(statusLine.split(' ')[1]), headers, text: answerText, json: answerText ? JSON.parse(answerText) : undefined });
    });
  });
}

/** A raw POST of a small JSON body with the given extra header lines. */
function rawPost(url, lines, method = 'POST') {
  const body = '{"agent_id":"agent-1"}';
  return rawRequest(url, [`${method} /api/voice-token HTTP/1.1`, 'Content-Type: application/json', `Content-Length: ${body.length}`, ...lines], body);
}

test('an Origin is served only when it is exactly a listed one: suffix, prefix, scheme, port, case, path, userinfo, lookalike and whitespace tricks get 403', async () => {
  const upstream = fakeUpstream(minted);
  const handler = tokens(upstream);
  const refused = [
    'https://app.example.evil.test', // the allowed host as a prefix of another
    'https://app.example.', // the same name as a fully qualified one
    'https://evil-app.example',
    'https://evilapp.example',
    'https://evil.app.example', // a subdomain
    'https://example', // the parent
    'https://app.exampl',
    'http://app.example', // the scheme swapped
    'wss://app.example',
    'https://localhost:8080',
    'https://app.example:443', // the default port spelled out
    'https://app.example:8443',
    'https://app.example:',
    'http://localhost', // the port left out
    'http://localhost:8081',
    'http://localhost:80808',
    'https://app.example/', // a trailing slash, a path, a query, a fragment
    'https://app.example/api',
    'https://app.example?',
    'https://app.example#',
    'HTTPS://APP.EXAMPLE', // letter case: browsers send origins in lower case
    'https://App.example',
    'https://user@app.example', // userinfo
    'https://user:pass@app.example',
    'https://app.example@evil.example',
    'https://app.example%2eevil.test',
    new URL('https://\u0430pp.example').origin, // a Cyrillic "a": https://xn--pp-6kc.example
    'https://xn--app-example',
    'null', // sandboxed frames, file: pages, redirects
    '', // present but empty
    '*',
    'https://app.example, https://app.example', // two Origin headers, as Fetch joins them
    'https://evil.example, https://app.example',
    'https://app.example https://evil.example',
    'https:// app.example', // whitespace inside the value
    'https://app .example',
    'https://app.example\u00a0', // a no-break space is not HTTP whitespace
    'https://app.example\u000b',
    'blob:https://app.example',
    'file://',
    'data:',
  ];
  for (const origin of refused) {
    for (const method of ['POST', 'OPTIONS']) {
      const answer = await ask(handler, { method, origin: null, headers: { origin } });
      assertError(answer, 403, 'origin_not_allowed');
      assert.equal(answer.headers['access-control-allow-origin'], undefined, `${method} ${JSON.stringify(origin)}`);
      assert.equal(answer.headers['access-control-allow-methods'], undefined);
      assert.equal(answer.headers.vary, 'Origin');
    }
  }
  assert.equal(upstream.calls.length, 0, 'no refused origin reached Atoms');

  // Serving both listed origins, and both again padded: whitespace around a header value is not part of
  // it (Fetch strips it from every header, as Node's HTTP parser does), so the handler sees the exact one.
  for (const origin of [SITE, DEV, ` ${SITE}`, `${DEV}\t`]) {
    const answer = await ask(handler, { origin: null, headers: { origin } });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.headers['access-control-allow-origin'], origin.trim());
    const preflight = await handler(fetchRequest({ method: 'OPTIONS', origin: null, headers: { origin } }));
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), origin.trim());
  }
  assert.equal(upstream.calls.length, 4);
});

test('over HTTP, repeated Origin headers, raw UTF-8 lookalikes and Latin-1 spaces get 403, and allowing requests without an Origin lets no empty, null or foreign one through', TIMEOUT, async (t) => {
  const upstream = fakeUpstream(minted);
  const url = await serveTokenHandler(t, { allowedOrigins: [SITE], fetch: upstream.fetch, rateLimit: false });
  for (const lines of [
    [`Origin: ${SITE}`, `Origin: ${SITE}`],
    ['Origin: https://evil.example', `Origin: ${SITE}`],
    [`Origin: ${SITE}`, 'Origin: https://evil.example'],
    [Buffer.from('Origin: https://\u0430pp.example', 'utf8').toString('latin1')],
    [`Origin: ${SITE}\u00a0`],
    [`Origin: ${SITE}/`],
  ]) {
    for (const method of ['POST', 'OPTIONS']) {
      const answer = await rawPost(url, lines, method);
      assertError(answer, 403, 'origin_not_allowed');
      assert.equal(answer.headers['access-control-allow-origin'], undefined, lines.join(' | '));
    }
  }
  assert.equal(upstream.calls.length, 0);
  const padded = await rawPost(url, [`Origin: \t ${SITE}  `]);
  assert.equal(padded.status, 200, padded.text);
  assert.equal(padded.headers['access-control-allow-origin'], SITE);

  // Allowing requests without an Origin does not let an empty, "null" or foreign one through.
  const lenient = await serveTokenHandler(t, { allowedOrigins: [SITE], allowRequestsWithoutOrigin: true, fetch: upstream.fetch, rateLimit: false });
  for (const origin of ['', 'null', 'https://evil.example']) {
    assertError(await request(lenient, { origin: null, headers: { origin } }), 403, 'origin_not_allowed');
  }
  const without = await request(lenient, { origin: null });
  assert.equal(without.status, 200, without.text);
  assert.equal(without.headers['access-control-allow-origin'], undefined, 'no CORS grant without an Origin');
});

test('allowedOrigins takes only exact origins, so an exact string match is an origin match; option errors never echo a key', () => {
  const base = { apiKey: KEY, allowedOrigins: [SITE] };
  for (const origin of [
    'https://App.example',
    'https://app.example/',
    'https://app.example:443',
    'http://localhost:80',
    'https://user@app.example',
    'https://b\u00fccher.example', // must be given as its punycode, https://xn--bcher-kva.example
    ' https://app.example',
    'https://app.example ',
    '*',
    'null',
    'app.example',
    'blob:https://app.example',
  ]) {
    assert.throws(() => createTokenHandler({ ...base, allowedOrigins: [origin] }), /allowedOrigins entry .* is not an exact origin/, JSON.stringify(origin));
  }
  assert.equal(typeof createTokenHandler({ ...base, allowedOrigins: ['https://xn--bcher-kva.example', 'http://localhost:8080'] }), 'function');

  // The key put in the wrong option (or a value that looks like a key) is refused without being repeated.
  const misplaced = [
    { ...base, allowedOrigins: [KEY] },
    { ...base, allowedOrigins: [SITE, `https://app.example/?key=${KEY}`] },
    { ...base, allowedOrigins: ['sk_live_0123456789abcdef'] },
    { ...base, allowAgentIds: ['sales', `${KEY} `] },
    { ...base, allowAgentIds: ['sales', 'SK_LIVE_0123456789abcdef!'] },
    { ...base, connectUrl: `wss://agent.example/connect?token=${KEY}` },
    { ...base, connectUrl: 'wss://agent.example/connect?key=sk_live_0123456789abcdef' },
  ];
  for (const options of misplaced) {
    assert.throws(
      () => createTokenHandler(options),
      (error) => /^createTokenHandler: /.test(error.message) && !error.message.includes(KEY) && !/sk_live/i.test(error.message),
      JSON.stringify(options),
    );
  }
  assert.throws(() => createTokenHandler(misplaced.at(-1)), /connectUrl.*sent to the browser/);
  // A value that only contains the letters "sk_" inside a word is still shown.
  assert.throws(() => createTokenHandler({ ...base, allowedOrigins: ['https://risk_register.example/'] }), /"https:\/\/risk_register\.example\/"/);
  assert.equal(typeof createTokenHandler({ ...base, connectUrl: 'wss://risk_register.example/connect' }), 'function');
});

test('methods: only POST and preflights; others get 405 with Allow before anything else, and TRACE through Node never reaches the handler', TIMEOUT, async (t) => {
  const upstream = fakeUpstream(minted);
  const handler = tokens(upstream);
  for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'PROPFIND', 'FOO']) {
    for (const origin of [SITE, 'https://evil.example']) {
      const response = await handler(fetchRequest({ method, origin }));
      assert.equal(response.status, 405, `${method} from ${origin}`);
      assert.equal(response.headers.get('allow'), 'POST, OPTIONS');
      if (method !== 'HEAD') assertError(await answerOf(response), 405, 'method_not_allowed');
    }
  }

  // Fetch cannot even represent TRACE: toNodeHandler refuses it in the same shape. (Node's parser
  // itself refuses methods it does not know, such as TRACK.)
  let called = 0;
  const inner = tokens(upstream);
  const url = await serve(
    t,
    toNodeHandler(Object.assign((request) => (called++, inner(request)), { maxBodyBytes: inner.maxBodyBytes })),
  );
  assertError(await rawPost(`${url}/api/voice-token`, [`Origin: ${SITE}`], 'TRACE'), 400, 'invalid_request');
  assert.equal(called, 0);
  assert.equal(upstream.calls.length, 0);
});

test('content type: application/json with any parameters and in any case is read; anything else gets 415', async () => {
  const upstream = fakeUpstream(minted);
  const handler = tokens(upstream);
  for (const contentType of ['application/json', 'application/json; charset=utf-8', 'application/json;charset=UTF-8', 'Application/JSON', ' application/json ; charset=utf-8']) {
    const answer = await ask(handler, { contentType });
    assert.equal(answer.status, 200, `${contentType}: ${answer.text}`);
  }
  assert.equal(upstream.calls.length, 5);
  for (const contentType of [
    null,
    'text/plain',
    'text/plain; charset=utf-8',
    'text/plain; application/json',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/jsonp',
    'application/json-seq',
    'application/ld+json',
    'application/problem+json',
    'text/json',
    'application /json',
    'application/json, text/plain', // two Content-Type headers, as Fetch joins them
    'text/plain, application/json',
  ]) {
    assertError(await ask(handler, { contentType }), 415, 'unsupported_media_type');
  }
  assertError(await ask(handler, { contentType: null, headers: { 'content-type': '' } }), 415, 'unsupported_media_type');
  assert.equal(upstream.calls.length, 5, 'no refused body reached Atoms');
});

test('the 8 KB body limit counts bytes, declared or streamed, chunked or endless', TIMEOUT, async (t) => {
  const upstream = fakeUpstream(minted);
  const handler = tokens(upstream);
  const limit = handler.maxBodyBytes;
  assert.equal(limit, 8192);
  assert.equal((await ask(handler, { body: bodyOfSize(limit) })).status, 200);
  assertError(await ask(handler, { body: bodyOfSize(limit + 1) }), 413, 'payload_too_large');

  // Bytes, not characters: three 1000-character variables of "€" are 9000 bytes in some 3050 characters.
  const euros = (n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`v${i}`, '\u20ac'.repeat(1000)]));
  assert.ok(JSON.stringify({ agent_id: 'agent-1', variables: euros(3) }).length < limit);
  assertError(await ask(handler, { body: { agent_id: 'agent-1', variables: euros(3) } }), 413, 'payload_too_large');
  assert.equal((await ask(handler, { body: { agent_id: 'agent-1', variables: euros(2) } })).status, 200);
  assert.equal(upstream.calls.length, 2);

  // Over HTTP: the same edge sent chunked (no Content-Length) and with a Content-Length.
  const url = await serveTokenHandler(t, { allowedOrigins: [SITE], fetch: upstream.fetch, rateLimit: false });
  for (const chunked of [false, true]) {
    assert.equal((await request(url, { origin: SITE, body: bodyOfSize(limit), chunked })).status, 200);
    assertError(await request(url, { origin: SITE, body: bodyOfSize(limit + 1), chunked }), 413, 'payload_too_large');
  }

  // A declared megabyte that never comes: refused on the header alone, without waiting for the body.
  const declared = await rawRequest(url, ['POST /api/voice-token HTTP/1.1', `Origin: ${SITE}`, 'Content-Type: application/json', 'Content-Length: 1048576'], (socket) =>
    socket.write('{"agent_id":'),
  );
  assertError(declared, 413, 'payload_too_large');
  assert.equal(declared.headers.connection, 'close');

  // A chunked body that never ends: answered 413 while the client is still sending.
  let answered = false;
  const endless = await rawRequest(url, ['POST /api/voice-token HTTP/1.1', `Origin: ${SITE}`, 'Content-Type: application/json', 'Transfer-Encoding: chunked'], (socket) => {
    socket.on('data', () => (answered = true));
    const chunk = `400\r\n${' '.repeat(0x400)}\r\n`;
    const more = () => {
      while (!answered && !socket.destroyed) if (!socket.write(chunk)) return void socket.once('drain', more);
    };
    more();
  });
  assertError(endless, 413, 'payload_too_large');
  assert.equal(upstream.calls.length, 4);
});

test('bodies that are not a usable JSON object get 400 invalid_request and never reach Atoms', async () => {
  const upstream = fakeUpstream(minted);
  const handler = tokens(upstream);
  const refused = [
    '',
    ' ',
    'null',
    'true',
    '1',
    '"agent-1"',
    '[]',
    '[{"agent_id":"agent-1"}]',
    '{',
    '{"agent_id":"agent-1",}',
    "{'agent_id':'agent-1'}",
    '{"agent_id":"agent-1"} {"agent_id":"agent-2"}',
    '{"agent_id":"agent-1"}\u0000',
    '{"agent_id":"agent-1","variables":{"n":NaN}}',
    '{"agent_id":"agent-1","variables":{"n":1e400}}', // Infinity
    '['.repeat(8000),
    `{"agent_id":"agent-1","variables":${'{"a":'.repeat(1300)}1${'}'.repeat(1301)}`,
    { agent_id: 42 },
    { agent_id: true },
    { agent_id: ['agent-1'] },
    { agent_id: { id: 'agent-1' } },
    { agent_id: '' },
    { agent_id: 'x'.repeat(129) },
    { agent_id: 'agent 1' },
    { agent_id: 'agent-1\n' },
    { agent_id: 'agent-1\u0000' },
    { agent_id: '\u00e1gent' },
    { agent_id: '../agent-1' },
    { agent_id: 'agent/1' },
    { agent_id: 'agent-1?mode=chat' },
    { agent_id: 'agent-1', mode: 'video' },
    { agent_id: 'agent-1', mode: 'WEBCALL' },
    { agent_id: 'agent-1', mode: ['chat'] },
    { agent_id: 'agent-1', mode: 1 },
    { agent_id: 'agent-1', mode: '' },
    { agent_id: 'agent-1', variables: 'name=Ada' },
    { agent_id: 'agent-1', variables: ['Ada'] },
    { agent_id: 'agent-1', variables: 1 },
    { agent_id: 'agent-1', variables: { nothing: null } },
    { agent_id: 'agent-1', variables: { nested: {} } },
    { agent_id: 'agent-1', variables: { list: [] } },
    { agent_id: 'agent-1', variables: { __proto__: null, ['__proto__']: { polluted: true } } },
    { agent_id: 'agent-1', variables: { long: 'x'.repeat(1001) } },
    { agent_id: 'agent-1', variables: { ['k'.repeat(65)]: 1 } },
    { agent_id: 'agent-1', variables: { '': 1 } },
    { agent_id: 'agent-1', variables: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) },
  ];
  for (const body of refused) {
    const answer = await ask(handler, { body: typeof body === 'string' ? body : JSON.stringify(body) });
    assertError(answer, 400, 'invalid_request');
  }
  assert.equal(upstream.calls.length, 0);
  assert.equal({}.polluted, undefined);

  // Huge but within limits: 32 variables with 64-character names; and a "__proto__" variable stays a variable.
  const most = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`${i}`.padStart(64, 'k'), 'v'.repeat(100)]));
  assert.equal((await ask(handler, { body: { agent_id: 'agent-1', variables: most } })).status, 200);
  assert.equal((await ask(handler, { body: '{"agent_id":"agent-1","variables":{"__proto__":"x"}}' })).status, 200);
  assert.equal(Object.keys(upstream.calls[0].body.variables).length, 32);
  assert.deepEqual(Object.entries(upstream.calls[1].body.variables), [['__proto__', 'x']]);
});

test('Atoms gets exactly the validated request: duplicate keys, __proto__ and extra fields cannot smuggle anything past the checks', async () => {
  const upstream = fakeUpstream(minted);
  const handler = tokens(upstream, { allowAgentIds: ['sales', 'support'] });
  // JSON.parse keeps the last of duplicate keys, and that is the value checked and the value sent.
  assertError(await ask(handler, { body: '{"agent_id":"sales","agent_id":"billing"}' }), 400, 'invalid_request');
  assert.equal((await ask(handler, { body: '{"agent_id":"billing","agent_id":"sales"}' })).status, 200);
  // A "__proto__" member is an own property, not an agent_id.
  assertError(await ask(handler, { body: '{"__proto__":{"agent_id":"sales"}}' }), 400, 'invalid_request');
  // Fields beyond agent_id, mode and variables are dropped, never forwarded.
  const extra = { agent_id: 'support', mode: 'chat', variables: { a: 1 }, apiKey: 'x', upstream: 'https://evil.example', access_token: 'wct_mine', expires_in: 99999 };
  assert.equal((await ask(handler, { body: extra })).status, 200);
  assert.deepEqual(
    upstream.calls.map((call) => call.body),
    [
      { agent_id: 'sales', mode: 'webcall', variables: {} },
      { agent_id: 'support', mode: 'chat', variables: { a: 1 } },
    ],
  );
  assert.deepEqual(Object.keys(JSON.parse(upstream.calls[1].init.body)), ['agent_id', 'mode', 'variables']);
  assert.equal(upstream.calls[1].init.headers.Authorization, `Bearer ${KEY}`);

  // With a single allowed agent, a "__proto__" member or a null agent_id means "none given": the one agent.
  const single = fakeUpstream(minted);
  const pinned = tokens(single, { agentId: 'sales' });
  assert.equal((await ask(pinned, { body: '{"__proto__":{"agent_id":"billing"}}' })).status, 200);
  assert.equal((await ask(pinned, { body: { agent_id: null } })).status, 200);
  assert.deepEqual(
    single.calls.map((call) => call.body.agent_id),
    ['sales', 'sales'],
  );
});

test('the agent allow-list and the modes cannot be talked round', async () => {
  const upstream = fakeUpstream(minted);
  const listed = tokens(upstream, { allowAgentIds: ['sales', 'support'], modes: ['chat'] });
  for (const agentId of ['Sales', 'SALES', 'sales ', ' sales', 'sale', 'salesX', 'sales,support', 'sales support', 'billing', 'sales\u0000']) {
    assertError(await ask(listed, { body: { agent_id: agentId, mode: 'chat' } }), 400, 'invalid_request');
  }
  for (const mode of ['webcall', 'Chat', 'CHAT', 'chat ', 'text', ['chat']]) {
    assertError(await ask(listed, { body: { agent_id: 'sales', mode } }), 400, 'invalid_request');
  }
  assertError(await ask(listed, { body: {} }), 400, 'invalid_request'); // two agents: the request must say which
  const pinned = tokens(upstream, { agentId: 'sales' });
  for (const agentId of ['support', 'SALES', 'sales-2']) {
    assertError(await ask(pinned, { body: { agent_id: agentId } }), 400, 'invalid_request');
  }
  assert.equal(upstream.calls.length, 0, 'no refused agent or mode reached Atoms');

  assert.equal((await ask(listed, { body: { agent_id: 'support' } })).status, 200);
  assert.equal((await ask(pinned, { body: {} })).status, 200);
  assert.deepEqual(
    upstream.calls.map((call) => [call.body.agent_id, call.body.mode]),
    [
      ['support', 'chat'],
      ['sales', 'webcall'],
    ],
  );
});

test('the rate limit: per client in a store shared by instances, before the body is read, and not dodged by rotating forwarding headers', TIMEOUT, async (t) => {
  const upstream = fakeUpstream(minted);
  // Two instances of the endpoint share one store, as with Redis.
  const shared = new MemoryRateLimitStore();
  const keys = [];
  const store = { hit: (key, windowMs) => (keys.push(key), shared.hit(key, windowMs)) };
  const [a, b] = [1, 2].map(() => tokens(upstream, { rateLimit: { limit: 3, windowMs: 60_000, store } }));
  const from = (handler, address, options) => handler(withClientAddress(fetchRequest({ origin: SITE, ...options }), address));

  assert.equal((await from(a, '192.0.2.1')).status, 200);
  assert.equal((await from(b, '192.0.2.1')).status, 200);
  // Refused bodies count too, so probing costs the same as asking.
  assert.equal((await from(a, '192.0.2.1', { contentType: 'text/plain' })).status, 415);
  const limited = await answerOf(await from(b, '192.0.2.1'));
  assertError(limited, 429, 'rate_limited');
  assert.match(limited.headers['retry-after'], /^\d+$/);
  // Limited before the body is looked at: an oversized or unreadable body still gets 429.
  assertError(await answerOf(await from(a, '192.0.2.1', { body: 'x'.repeat(1024 * 1024) })), 429, 'rate_limited');
  assertError(await answerOf(await from(a, '192.0.2.1', { contentType: 'text/plain' })), 429, 'rate_limited');
  assert.equal((await from(a, '192.0.2.2')).status, 200, 'another client has its own count');
  assert.equal(upstream.calls.length, 3, 'a limited request never reaches Atoms');
  assert.ok(keys.every((key) => !key.includes(KEY) && !/sk_/.test(key)), 'the store sees client keys only');

  // Through Node, without trustProxy: whatever forwarding headers a client writes, it is its connection.
  const direct = await serveTokenHandler(t, { allowedOrigins: [SITE], fetch: upstream.fetch, rateLimit: { limit: 2 } });
  const statuses = [];
  for (let i = 1; i <= 5; i++) {
    const spoofed = { 'x-forwarded-for': `198.51.100.${i}`, 'cf-connecting-ip': `198.51.100.${i}`, 'x-real-ip': `2001:db8:${i}::1` };
    statuses.push((await request(direct, { origin: SITE, headers: spoofed })).status);
  }
  assert.deepEqual(statuses, [200, 200, 429, 429, 429]);

  // Behind one proxy: the client can write the left of X-Forwarded-For, never the entry the proxy appends.
  const proxied = await serveTokenHandler(t, { allowedOrigins: [SITE], fetch: upstream.fetch, rateLimit: { limit: 2, trustProxy: 1 } });
  statuses.length = 0;
  for (let i = 1; i <= 4; i++) {
    statuses.push((await request(proxied, { origin: SITE, headers: { 'x-forwarded-for': `198.51.100.${i}, 203.0.113.9` } })).status);
  }
  assert.deepEqual(statuses, [200, 200, 429, 429]);
});

test('timeoutMs holds even against a fetch that ignores its signal or a body that ignores cancel: no request hangs', TIMEOUT, async () => {
  const stuck = [
    { fetch: () => new Promise(() => {}) },
    fakeUpstream(() => new Response(new ReadableStream({ pull: () => new Promise(() => {}) }), { status: 201 })),
    fakeUpstream(() => new Response(new ReadableStream({ start: (controller) => controller.enqueue(new TextEncoder().encode('{"data":')), cancel: () => new Promise(() => {}) }), { status: 201 })),
  ];
  for (const upstream of stuck) {
    const started = performance.now();
    const answer = await ask(tokens(upstream, { timeoutMs: 100 }));
    assertError(answer, 504, 'upstream_timeout');
    assert.ok(performance.now() - started < 2000, `answered after ${Math.round(performance.now() - started)} ms`);
  }
});

/**
 * Records what is written to the console, stdout and stderr, and every process warning and unhandled
 * rejection, until `stop()`. The console is held back; stdout and stderr writes still go through (the
 * test runner reports on them).
 */
function captureOutput() {
  const lines = [];
  const restore = [];
  const describe = (value) => (value instanceof Error ? `${value.stack}\n${inspect(value.cause)}` : typeof value === 'string' ? value : inspect(value));
  for (const name of Object.keys(console)) {
    const original = console[name];
    if (typeof original !== 'function') continue;
    console[name] = (...args) => void lines.push(`console.${name}: ${args.map(describe).join(' ')}`);
    restore.push(() => (console[name] = original));
  }
  for (const [name, stream] of [
    ['stdout', process.stdout],
    ['stderr', process.stderr],
  ]) {
    const original = stream.write;
    stream.write = function (chunk, ...rest) {
      lines.push(`${name}: ${chunk}`);
      return original.call(this, chunk, ...rest);
    };
    restore.push(() => (stream.write = original));
  }
  const events = [];
  for (const event of ['warning', 'unhandledRejection', 'uncaughtExceptionMonitor']) {
    const listener = (value) => events.push(`${event}: ${describe(value)}`);
    process.on(event, listener);
    restore.push(() => process.off(event, listener));
  }
  return { lines, events, stop: () => restore.reverse().forEach((undo) => undo()) };
}

/** The headers a token endpoint answer may have; anything else would have come from somewhere else (Atoms). */
const ANSWER_HEADERS = new Set([
  'content-type',
  'cache-control',
  'x-content-type-options',
  'vary',
  'access-control-allow-origin',
  'access-control-expose-headers',
  'retry-after',
  'allow',
  // Node's own, over HTTP
  'content-length',
  'connection',
  'date',
  'keep-alive',
]);

/** Atoms answering `status` with everything echoed back: the key and markers in the body and in headers. */
function echoing(status, headers = {}) {
  return () =>
    new Response(JSON.stringify({ status: false, errors: [ECHOED], data: { access_token: `wct_${KEY}` }, authorization: `Bearer ${KEY}` }), {
      status,
      headers: { 'content-type': 'application/json', 'x-debug': ECHOED, 'www-authenticate': `Bearer realm="${KEY}"`, 'retry-after': KEY, ...headers },
    });
}

test('every path, success and each failure, leaves the key out of every log line, body and header, and every error has the one shape', TIMEOUT, async (t) => {
  const scenarios = [];
  /** A scenario: `run` answers like `ask` or `request`; `code` is the error code expected, or 200. */
  const scenario = (name, code, run) => scenarios.push({ name, code, run });
  const fetchOf = (respond) => ({ fetch: respond });

  scenario('success', 200, () => ask(tokens(fakeUpstream(minted))));
  scenario('method', 'method_not_allowed', () => ask(tokens(fakeUpstream(minted)), { method: 'GET' }));
  scenario('foreign origin', 'origin_not_allowed', () => ask(tokens(fakeUpstream(minted)), { origin: 'https://app.example.evil.test' }));
  scenario('no origin', 'origin_not_allowed', () => ask(tokens(fakeUpstream(minted)), { origin: null }));
  scenario('media type', 'unsupported_media_type', () => ask(tokens(fakeUpstream(minted)), { contentType: 'text/plain' }));
  scenario('body size', 'payload_too_large', () => ask(tokens(fakeUpstream(minted)), { body: bodyOfSize(9000) }));
  scenario('invalid JSON', 'invalid_request', () => ask(tokens(fakeUpstream(minted)), { body: '{"agent_id":' }));
  scenario('agent not allowed', 'invalid_request', () => ask(tokens(fakeUpstream(minted), { agentId: 'sales' }), { body: { agent_id: 'billing' } }));
  scenario('rate limited', 'rate_limited', async () => {
    const handler = tokens(fakeUpstream(minted), { rateLimit: { limit: 1 } });
    await ask(handler);
    return ask(handler);
  });
  scenario('rate-limit store failing with the key in its error', 'rate_limit_unavailable', () =>
    ask(tokens(fakeUpstream(minted), { rateLimit: { store: { hit: async () => Promise.reject(new Error(`AUTH failed for ${KEY}`)) } } })),
  );
  scenario('clientKey throwing the key', 'internal_error', () =>
    ask(
      tokens(fakeUpstream(minted), {
        rateLimit: {
          clientKey: () => {
            throw new Error(`no session for ${KEY}`);
          },
        },
      }),
    ),
  );
  scenario('fetch answering something other than a Response', 'upstream_invalid_response', () => ask(tokens(fetchOf(async () => ({ apiKey: KEY })))));
  for (const [status, code] of [
    [400, 'upstream_bad_request'],
    [401, 'upstream_unauthorized'],
    [402, 'upstream_no_credits'],
    [403, 'upstream_unauthorized'],
    [404, 'upstream_agent_not_found'],
    [429, 'upstream_rate_limited'],
    [500, 'upstream_failed'],
    [503, 'upstream_failed'],
    [418, 'upstream_failed'],
  ]) {
    scenario(`upstream ${status} echoing the key`, code, () => ask(tokens(fakeUpstream(echoing(status)))));
  }
  scenario('upstream 400 about credits, echoing the key', 'upstream_no_credits', () =>
    ask(tokens(fakeUpstream(() => new Response(`{"errors":["no credits left for ${KEY}"]}`, { status: 400 })))),
  );
  scenario('upstream redirect to a URL with the key', 'upstream_failed', () =>
    ask(tokens(fakeUpstream(echoing(302, { location: `https://login.example/?key=${KEY}`, 'set-cookie': `session=${KEY}` })))),
  );
  for (const token of [KEY, `wct_${KEY}`, KEY.toUpperCase(), UPSTREAM_SECRET]) {
    scenario(`upstream token ${token}`, 'upstream_invalid_response', () =>
      ask(tokens(fakeUpstream(() => new Response(JSON.stringify({ data: { access_token: token }, echo: ECHOED }), { status: 201 })))),
    );
  }
  scenario('upstream 2xx page echoing the key', 'upstream_invalid_response', () =>
    ask(tokens(fakeUpstream(() => new Response(`<html>${ECHOED}</html>`, { status: 200, headers: { 'x-debug': ECHOED } })))),
  );
  scenario('upstream body failing with the key', 'upstream_invalid_response', () =>
    ask(
      tokens(
        fakeUpstream(
          () =>
            new Response(
              new ReadableStream({
                pull(controller) {
                  controller.error(new Error(`stream reset: ${KEY}`));
                },
              }),
              { status: 201 },
            ),
        ),
      ),
    ),
  );
  scenario('fetch throwing the key at once', 'upstream_unreachable', () =>
    ask(
      tokens(
        fetchOf(() => {
          throw new TypeError(`Invalid header value: Bearer ${KEY}`);
        }),
      ),
    ),
  );
  scenario('fetch rejecting with the key', 'upstream_unreachable', () =>
    ask(tokens(fetchOf(async () => Promise.reject(new TypeError('fetch failed', { cause: new Error(`connect ECONNREFUSED, key ${KEY}`) }))))),
  );
  scenario('fetch ignoring its signal, rejecting with the key after the timeout', 'upstream_timeout', () =>
    ask(
      tokens(
        fetchOf(() => new Promise((resolve, reject) => setTimeout(() => reject(new Error(`late failure for ${KEY}`)), 150))),
        { timeoutMs: 50 },
      ),
    ),
  );
  scenario('upstream body that never ends and ignores cancel', 'upstream_timeout', () =>
    ask(tokens(fakeUpstream(() => new Response(new ReadableStream({ pull: () => new Promise(() => {}) }), { status: 201 })), { timeoutMs: 50 })),
  );
  scenario('a real upstream over HTTP echoing the key, through toNodeHandler', 'upstream_failed', async () => {
    const upstream = await serveUpstream(t, (req, res) => {
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json', 'x-debug': ECHOED, 'set-cookie': `k=${KEY}` });
      res.end(JSON.stringify({ errors: [ECHOED], authorization: req.headers.authorization }));
    });
    return request(await serveTokenHandler(t, { upstream }));
  });
  scenario('toNodeHandler with a handler throwing the key', 'internal_error', async () =>
    request(
      `${await serve(
        t,
        toNodeHandler(async () => {
          throw new Error(`boom ${KEY}`);
        }),
      )}/`,
    ),
  );
  scenario('TRACE through toNodeHandler', 'invalid_request', async () => rawPost(await serveTokenHandler(t, { fetch: fakeUpstream(minted).fetch }), [`Origin: ${ORIGIN}`], 'TRACE'));

  const output = captureOutput();
  const answers = [];
  try {
    for (const { name, code, run } of scenarios) answers.push({ name, code, answer: await run() });
    // Late settlements (the ignored fetch rejects at 150 ms) have their chance to surface.
    await new Promise((resolve) => setTimeout(resolve, 250));
  } finally {
    output.stop();
  }

  for (const { name, code, answer } of answers) {
    const unexpected = Object.keys(answer.headers).filter((header) => !ANSWER_HEADERS.has(header));
    assert.deepEqual(unexpected, [], `${name}: headers from elsewhere`);
    if (code === 200) {
      assert.equal(answer.status, 200, `${name}: ${answer.text}`);
      assert.deepEqual(Object.keys(answer.json).sort(), ['access_token', 'expires_in', 'sample_rate']);
      assert.equal(answer.headers['cache-control'], 'no-store');
    } else {
      assert.equal(answer.json?.error?.code, code, `${name}: ${answer.text}`);
      assertError(answer, ERROR_STATUS[code], code);
    }
  }
  // Every documented code came up: the shape held on every error path there is.
  assert.deepEqual(new Set(answers.map((a) => a.code).filter((code) => code !== 200)), new Set(Object.keys(ERROR_STATUS)));

  const logged = [...output.lines, ...output.events].join('\n');
  for (const secret of [KEY, 'sk_', UPSTREAM_DETAIL]) {
    assert.ok(!logged.includes(secret), `${JSON.stringify(secret)} was logged:\n${logged}`);
  }
  assert.deepEqual(output.events, [], 'no warning or unhandled rejection');
});

test('the capture sees what it must: every console method, stdout and stderr', async () => {
  // The check above is only as good as its net. (An unhandled rejection also fails the test it happens
  // in: node:test reports it.)
  const output = captureOutput();
  try {
    for (const name of ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir']) console[name](`probe ${name}`);
    process.stdout.write('');
    process.stderr.write('');
  } finally {
    output.stop();
  }
  for (const name of ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir']) {
    assert.ok(output.lines.includes(`console.${name}: probe ${name}`), name);
  }
  assert.ok(output.lines.includes('stdout: '));
  assert.ok(output.lines.includes('stderr: '));
});

test('the widget stores nothing: no Web Storage, cookies, IndexedDB or Cache API in the code that runs in the page', () => {
  const dist = fileURLToPath(new URL('../../dist/', import.meta.url));
  const serverSide = /^(server|local-agent|cli|types)\//;
  const files = readdirSync(dist, { recursive: true }).filter((file) => /\.js$/.test(file) && !serverSide.test(file));
  for (const expected of ['voice-agent.js', 'cdn/voice-agent.js', 'cdn/voice-agent-engine.js', 'session/token.js']) {
    assert.ok(files.includes(expected), `${expected} is checked`);
  }
  const storage = /\b(localStorage|sessionStorage|indexedDB|cookieStore)\b|document\.cookie|\bcaches\.(open|match|has|keys|delete)\b|navigator\.storage/;
  for (const file of files) assert.doesNotMatch(readFileSync(`${dist}${file}`, 'utf8'), storage, file);
});
