/**
 * For Node tests that mint tokens and open calls: a local agent shared by a test file, the first frame
 * of a call opened with a token, and the token endpoint's test kit: a handler served over HTTP, raw
 * requests, Fetch-API requests, a fake Atoms, and the checks every answer must pass (no secret in it,
 * errors in their one shape).
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import { after, before } from 'node:test';
import { WebSocket } from 'ws';
import { LocalAgent } from '../../dist/local-agent/index.js';
import { createTokenHandler, toNodeHandler } from '../../dist/server/index.js';

/** The server's secret key in token tests (the local agent's default). */
export const KEY = 'sk_local_dev';
/** The one origin token tests allow. */
export const ORIGIN = 'http://app.example:3000';
/** Strings a misbehaving upstream puts in its answers; neither may ever reach the browser. */
export const UPSTREAM_SECRET = 'sk_live_upstream_leak';
export const UPSTREAM_DETAIL = 'internal upstream detail';
export const TIMEOUT = { timeout: 15_000 };

/** The documented `error.code`s and their statuses (README, "The token handler"). */
export const ERROR_STATUS = {
  invalid_request: 400,
  origin_not_allowed: 403,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  upstream_unauthorized: 502,
  upstream_bad_request: 502,
  upstream_no_credits: 502,
  upstream_agent_not_found: 502,
  upstream_rate_limited: 503,
  upstream_failed: 502,
  upstream_unreachable: 502,
  upstream_invalid_response: 502,
  upstream_timeout: 504,
  rate_limit_unavailable: 503,
  internal_error: 500,
};

/** Starts a local agent (built dist/local-agent) before the file's tests and closes it after them; read it as `fixture.agent`. */
export function localAgentFixture(options) {
  const fixture = { agent: undefined };
  before(async () => {
    fixture.agent = await LocalAgent.start(options);
  });
  after(() => fixture.agent?.close());
  return fixture;
}

/** Connects to `url` with a token and resolves with the agent's first frame; the socket goes when the test ends. */
export async function firstFrame(t, url, token) {
  const ws = new WebSocket(`${url}?token=${token}`);
  t.after(() => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once('message', (data) => resolve(JSON.parse(String(data))));
    ws.once('error', reject);
  });
}

/** Serves `listener` on 127.0.0.1 until the test ends; resolves with the server's origin. */
export async function serve(t, listener) {
  const server = createServer(listener);
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

/** Serves `createTokenHandler({apiKey: KEY, allowedOrigins: [ORIGIN], ...options})` through toNodeHandler; resolves with its URL. */
export async function serveTokenHandler(t, options = {}) {
  const handler = createTokenHandler({ apiKey: KEY, allowedOrigins: [ORIGIN], ...options });
  return `${await serve(t, toNodeHandler(handler))}/api/voice-token`;
}

/** An upstream that misbehaves; resolves with the `upstream` to give the handler. */
export async function serveUpstream(t, respond) {
  return `${await serve(t, respond)}/atoms/v1`;
}

/** Every answer is checked for secrets: no key, upstream body or upstream token may ever reach the browser. */
export function assertNoSecrets(headers, text) {
  const everything = JSON.stringify(headers) + text;
  for (const secret of [KEY, UPSTREAM_SECRET, UPSTREAM_DETAIL, 'sk_']) {
    assert.ok(!everything.includes(secret), `the answer must not contain ${secret}: ${everything}`);
  }
}

/** A raw HTTP request, so Origin and Content-Type are exactly what the test says. */
export async function request(
  url,
  { method = 'POST', origin = ORIGIN, contentType = 'application/json', body = { agent_id: 'agent-1' }, chunked = false, headers: extra = {} } = {},
) {
  const headers = { ...(origin && { origin }), ...(contentType && { 'content-type': contentType }), ...extra };
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
  assertNoSecrets(answer.headers, answer.text);
  return { ...answer, json: answer.text ? JSON.parse(answer.text) : undefined };
}

/** A plain Fetch-API Request, as Workers, Deno, Bun and Next.js hand one to the handler. */
export function fetchRequest({ method = 'POST', origin = ORIGIN, contentType = 'application/json', body = { agent_id: 'agent-1' }, headers = {} } = {}) {
  return new Request('https://site.example/api/voice-token', {
    method,
    headers: { ...(origin && { origin }), ...(contentType && { 'content-type': contentType }), ...headers },
    ...(method === 'POST' && body !== undefined && { body: typeof body === 'string' || body instanceof ReadableStream ? body : JSON.stringify(body) }),
    ...(body instanceof ReadableStream && { duplex: 'half' }),
  });
}

/** Reads a Fetch-API Response like `request` reads an HTTP answer. */
export async function answerOf(response) {
  const text = await response.text();
  const headers = Object.fromEntries(response.headers);
  assertNoSecrets(headers, text);
  return { status: response.status, headers, text, json: text ? JSON.parse(text) : undefined };
}

/** An error answer in its one shape: exactly `{error: {code, message}}`, a documented code, JSON, not cached or sniffed. */
export function assertError(answer, status, code) {
  assert.equal(answer.status, status, answer.text);
  assert.equal(ERROR_STATUS[code], status, `${code} is documented with ${status}`);
  assert.deepEqual(Object.keys(answer.json), ['error']);
  assert.deepEqual(Object.keys(answer.json.error), ['code', 'message']);
  assert.equal(answer.json.error.code, code);
  assert.equal(typeof answer.json.error.message, 'string');
  assert.ok(answer.json.error.message.length > 0);
  assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(answer.headers['cache-control'], 'no-store');
  assert.equal(answer.headers['x-content-type-options'], 'nosniff');
}

/** A fetch standing in for Atoms: answers each call with `respond(call)` and records the calls. */
export function fakeUpstream(respond) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init, body: JSON.parse(init.body) });
    return respond(calls.at(-1));
  };
  return { fetch, calls };
}

/** Atoms' answer to a successful register-call. */
export const minted = () => new Response(JSON.stringify({ status: true, data: { access_token: 'wct_fake', expires_in: 30, sample_rate: 24000 } }), { status: 201 });
