import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { Client } from '../support/agent-client.mjs';
import { LocalAgent, synthesizeSpeech } from '../../dist/local-agent/index.js';

const KEY = 'sk_local_dev';
const RATE = 24000;
const TIMEOUT = { timeout: 20_000 };
const LONG_GREETING =
  'Welcome to the local test agent. This greeting is deliberately long, so that there is plenty of time to talk over it and cut it short.';
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/;

async function startAgent(t, options = {}) {
  const agent = await LocalAgent.start(options);
  t.after(() => agent.close());
  return agent;
}

async function registerCall(agent, body, { key = KEY, method = 'POST', raw } = {}) {
  const response = await fetch(`${agent.restBaseUrl}/conversation/register-call`, {
    method,
    headers: { 'content-type': 'application/json', ...(key && { authorization: `Bearer ${key}` }) },
    ...(method === 'POST' && { body: raw ?? JSON.stringify(body) }),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

async function mintToken(agent, body = {}) {
  const { status, body: json } = await registerCall(agent, { agent_id: 'agent-test', ...body });
  assert.equal(status, 201);
  return json.data.access_token;
}

/** Registers a call and connects to it. `greeting: ''` keeps a voice session quiet until spoken to. */
async function openCall(t, agent, { mode = 'webcall', variables = { greeting: '' } } = {}) {
  const token = await mintToken(agent, { mode, variables });
  const client = await Client.open(`${agent.connectUrl}?token=${token}`);
  t.after(() => client.ws.terminate());
  const { frame } = await client.next('session.created');
  return { client, session: agent.sessions.find((s) => s.sessionId === frame.session_id), created: frame };
}

function base64Pcm(pcm) {
  const bytes = Buffer.alloc(pcm.length * 2);
  pcm.forEach((sample, i) => bytes.writeInt16LE(sample, i * 2));
  return bytes.toString('base64');
}

function decodeAudio(frame) {
  const bytes = Buffer.from(frame.audio, 'base64');
  assert.equal(bytes.length % 2, 0);
  return bytes.length / 2;
}

/** Sends `pcm` as append frames of `frameSamples` (the last one zero-padded); returns the frame count. */
function sendAudio(client, pcm, frameSamples = 480) {
  let count = 0;
  for (let start = 0; start < pcm.length; start += frameSamples, count++) {
    const frame = new Int16Array(frameSamples);
    frame.set(pcm.subarray(start, start + frameSamples));
    client.send({ type: 'input_audio_buffer.append', audio: base64Pcm(frame) });
  }
  return count;
}

/** Asserts a run of assistant captions is cumulative and ends in `text`. */
function assertCumulative(deltas, text) {
  assert.ok(deltas.length > 0, 'captions were sent');
  deltas.reduce((previous, delta) => {
    assert.ok(delta.startsWith(previous), `"${delta}" extends "${previous}"`);
    return delta;
  }, '');
  assert.equal(deltas.at(-1), text);
}

const deltasOf = (frames, role = 'assistant') =>
  frames.filter((frame) => frame.type === 'transcript.delta' && frame.role === role).map((frame) => frame.text);
const isFinal = (role) => (frame) => frame.type === 'transcript' && frame.role === role;

// ---------------------------------------------------------------------------------------------
// register-call

test('register-call requires the API key', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  for (const key of [null, 'sk_wrong']) {
    const { status, body } = await registerCall(agent, { agent_id: 'a' }, { key });
    assert.equal(status, 401);
    assert.deepEqual(body, { status: false, errors: ['Unauthorized'] });
  }
});

test('register-call answers 201 with a single-use wct_ token', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  const { status, headers, body } = await registerCall(agent, { agent_id: 'agent-1' });
  assert.equal(status, 201);
  assert.equal(headers.get('cache-control'), 'no-store');
  assert.deepEqual(Object.keys(body.data).sort(), ['access_token', 'expires_in', 'sample_rate']);
  assert.equal(body.status, true);
  assert.match(body.data.access_token, /^wct_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(body.data.expires_in, 30);
  assert.equal(body.data.sample_rate, 24000);
});

test('register-call validates its body', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  const manyKeys = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i]));
  const invalid = [
    { raw: 'not json' },
    { raw: '[]' },
    { body: {} },
    { body: { agent_id: '' } },
    { body: { agent_id: 7 } },
    { body: { agent_id: 'x'.repeat(129) } },
    { body: { agent_id: 'a', mode: 'video' } },
    { body: { agent_id: 'a', variables: [] } },
    { body: { agent_id: 'a', variables: { nested: { no: 1 } } } },
    { body: { agent_id: 'a', variables: { nothing: null } } },
    { body: { agent_id: 'a', variables: manyKeys } },
  ];
  for (const { body, raw } of invalid) {
    const answer = await registerCall(agent, body, { raw });
    assert.equal(answer.status, 400, `400 for ${raw ?? JSON.stringify(body).slice(0, 60)}`);
    assert.equal(answer.body.status, false);
    assert.equal(typeof answer.body.errors[0], 'string');
  }
  const tooLarge = await registerCall(agent, undefined, { raw: JSON.stringify({ agent_id: 'a', pad: 'x'.repeat(17_000) }) });
  assert.equal(tooLarge.status, 413);
  const wrongMethod = await registerCall(agent, undefined, { method: 'GET' });
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get('allow'), 'POST');
});

/** `GET /atoms/v1/agent/{id}` on `agent`, with the key unless `key` says otherwise. */
async function getAgent(agent, id, { key = KEY, method = 'GET' } = {}) {
  const response = await fetch(`${agent.restBaseUrl}/agent/${encodeURIComponent(id)}`, {
    method,
    headers: key ? { authorization: `Bearer ${key}` } : {},
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

test('GET /agent/{id} answers the agent\'s record, wrapped as Atoms wraps it', TIMEOUT, async (t) => {
  const agent = await startAgent(t, { greeting: 'Hi!' });
  const { status, headers, body } = await getAgent(agent, '69da0b4c20c0e03cfa4ee258');
  assert.equal(status, 200);
  assert.equal(headers.get('cache-control'), 'no-store');
  assert.equal(body.status, true);
  const { createdAt, updatedAt, ...record } = body.data;
  assert.deepEqual(record, {
    _id: '69da0b4c20c0e03cfa4ee258',
    name: 'Local agent',
    description: '',
    organization: 'local',
    workflowType: 'single_prompt',
    language: { default: 'en', supported: ['en'] },
    firstMessage: 'Hi!',
    defaultVariables: {},
    allowInterruptions: true,
    waitForUserToSpeakFirst: false,
    archived: false,
  });
  assert.equal(new Date(createdAt).toISOString(), createdAt);
  assert.equal(updatedAt, createdAt);
  // Any id: without a list of agents the local agent plays whichever agent a page names.
  assert.equal((await getAgent(agent, 'agent-test')).body.data._id, 'agent-test');
});

test('GET /agent/{id} knows only the listed agents when given a list', TIMEOUT, async (t) => {
  const agent = await startAgent(t, { greeting: '', agents: { 'agent-1': { name: 'Ada', description: 'Answers the phone' }, 'agent-2': {} } });
  const ada = await getAgent(agent, 'agent-1');
  assert.equal(ada.status, 200);
  assert.equal(ada.body.data.name, 'Ada');
  assert.equal(ada.body.data.description, 'Answers the phone');
  assert.equal(ada.body.data.firstMessage, '');
  assert.equal(ada.body.data.waitForUserToSpeakFirst, true);
  assert.equal((await getAgent(agent, 'agent-2')).body.data.name, 'Local agent');
  // Atoms answers an unknown agent with 400 "No agent found", not 404.
  const unknown = await getAgent(agent, 'agent-3');
  assert.equal(unknown.status, 400);
  assert.deepEqual(unknown.body, { status: false, errors: ['No agent found'] });
  // A plain request to the socket's path reaches the agent route, as on the real API.
  const connect = await getAgent(agent, 'connect');
  assert.equal(connect.status, 400);
  assert.deepEqual(connect.body, { status: false, errors: ['Invalid agent id'] });
});

test('GET /agent/{id} requires the API key, before it says anything about the id', TIMEOUT, async (t) => {
  const agent = await startAgent(t, { agents: { 'agent-1': {} } });
  for (const key of [null, 'sk_wrong', 'wct_00000000-0000-0000-0000-000000000000']) {
    for (const id of ['agent-1', 'agent-unknown']) {
      const { status, body } = await getAgent(agent, id, { key });
      assert.equal(status, 401, `${key} ${id}`);
      assert.deepEqual(body, { status: false, errors: ['Unauthorized'] });
    }
  }
  const post = await getAgent(agent, 'agent-1', { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET');
});

test('the agents option is checked', TIMEOUT, async () => {
  for (const agents of [[], 'agent-1', { connect: {} }, { 'agent-1': null }, { 'agent-1': { name: 7 } }]) {
    await assert.rejects(LocalAgent.start({ agents }), /agents/, JSON.stringify(agents));
  }
});

test('unknown routes and upgrade paths get 404', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  assert.equal((await fetch(`${agent.origin}/nothing-here`)).status, 404);
  await assert.rejects(Client.open(`ws://127.0.0.1:${new URL(agent.origin).port}/elsewhere`), /HTTP 404/);
});

test('register-call drops reserved variables and the session keeps the rest', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  const variables = { greeting: '', name: 'Ada', vip: true, visits: 3, call_id: 'forged', timezone: 'UTC' };
  const { session } = await openCall(t, agent, { variables });
  assert.deepEqual(session.variables, { greeting: '', name: 'Ada', vip: true, visits: 3 });
  assert.equal(session.agentId, 'agent-test');
  assert.equal(session.mode, 'webcall');
});

// ---------------------------------------------------------------------------------------------
// connecting

test('a token connects once; a second use, a made-up token and no token get 401', TIMEOUT, async (t) => {
  const agent = await startAgent(t, { greeting: '' });
  const token = await mintToken(agent);
  const client = await Client.open(`${agent.connectUrl}?token=${token}`);
  t.after(() => client.ws.terminate());
  await client.next('session.created');
  await assert.rejects(Client.open(`${agent.connectUrl}?token=${token}`), /HTTP 401/);
  await assert.rejects(Client.open(`${agent.connectUrl}?token=wct_00000000-0000-0000-0000-000000000000`), /HTTP 401/);
  await assert.rejects(Client.open(agent.connectUrl), /HTTP 401/);
  assert.equal(agent.sessions.length, 1);
});

test('an expired token gets 401', TIMEOUT, async (t) => {
  const agent = await startAgent(t, { tokenTtlSeconds: 0.05 });
  const { body } = await registerCall(agent, { agent_id: 'a' });
  assert.equal(body.data.expires_in, 0.05);
  // Expiry is a matter of time passing; nothing to await but the clock.
  await new Promise((resolve) => setTimeout(resolve, 80));
  await assert.rejects(Client.open(`${agent.connectUrl}?token=${body.data.access_token}`), /HTTP 401/);
});

test('a trusted server connects with the API key and the call settings in the query', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  const url = `${agent.connectUrl}?token=${KEY}&agent_id=trusted&mode=chat&sample_rate=16000`;
  const client = await Client.open(url);
  t.after(() => client.ws.terminate());
  const { frame } = await client.next('session.created');
  assert.equal(frame.sample_rate, 16000);
  assert.deepEqual(
    agent.sessions.map(({ agentId, mode }) => ({ agentId, mode })),
    [{ agentId: 'trusted', mode: 'chat' }],
  );
  await assert.rejects(Client.open(`${agent.connectUrl}?token=${KEY}`), /HTTP 400/, 'agent_id is required');
  await assert.rejects(Client.open(`${agent.connectUrl}?token=${KEY}&agent_id=a&sample_rate=22050`), /HTTP 400/);
});

test('a trusted server may send the API key as a Bearer header instead', TIMEOUT, async (t) => {
  const agent = await startAgent(t, { greeting: '' });
  const client = await Client.open(`${agent.connectUrl}?agent_id=by-header`, { headers: { authorization: `Bearer ${KEY}` } });
  t.after(() => client.ws.terminate());
  await client.next('session.created');
  assert.deepEqual(
    agent.sessions.map((s) => s.agentId),
    ['by-header'],
  );
});

test('a connection with both a token in the query and an Authorization header gets 400, and the token stays unused', TIMEOUT, async (t) => {
  const agent = await startAgent(t, { greeting: '' });
  const bearer = { headers: { authorization: `Bearer ${KEY}` } };
  await assert.rejects(Client.open(`${agent.connectUrl}?token=${KEY}&agent_id=a`, bearer), /HTTP 400/);
  const token = await mintToken(agent);
  await assert.rejects(Client.open(`${agent.connectUrl}?token=${token}`, bearer), /HTTP 400/);
  assert.equal(agent.sessions.length, 0);
  const client = await Client.open(`${agent.connectUrl}?token=${token}`);
  t.after(() => client.ws.terminate());
  await client.next('session.created');
});

test('the key goes in the token parameter, as the mobile guides send it; api_key is not read', TIMEOUT, async (t) => {
  const agent = await startAgent(t, { greeting: '' });
  await assert.rejects(Client.open(`${agent.connectUrl}?api_key=${KEY}&agent_id=a`), /HTTP 401/);
  const client = await Client.open(`${agent.connectUrl}?token=${KEY}&agent_id=a&mode=webcall&sample_rate=24000`);
  t.after(() => client.ws.terminate());
  await client.next('session.created');
});

/** Opens a connection the agent accepts and then refuses: resolves with what it sent and how it closed. */
async function refusedAfterUpgrade(t, url, options) {
  const client = await Client.open(url, options);
  t.after(() => client.ws.terminate());
  const { frame, skipped } = await client.next('error');
  const close = await client.closed;
  return { frame, skipped, close, frames: client.types() };
}

test('a wrong API key is a setup failure after the upgrade: error 401, then close code 4000', TIMEOUT, async (t) => {
  const lines = [];
  const agent = await startAgent(t, { log: (line) => lines.push(line) });
  for (const [url, options] of [
    [`${agent.connectUrl}?token=sk_wrong_key&agent_id=a`],
    [`${agent.connectUrl}?agent_id=a`, { headers: { authorization: 'Bearer sk_wrong_key' } }],
  ]) {
    const { frame, skipped, close, frames } = await refusedAfterUpgrade(t, url, options);
    assert.deepEqual(skipped, []);
    assert.deepEqual(frame, { type: 'error', code: '401', message: 'Invalid API key.' });
    assert.equal(close.code, 4000);
    assert.deepEqual(frames, ['error'], 'no session.created and no session.closed');
  }
  assert.equal(agent.sessions.length, 0);
  assert.ok(!lines.join('\n').includes('sk_wrong_key'), 'the log never holds the key');
  // A made-up wct_ token is still refused at the upgrade, and so are call settings that do not parse.
  await assert.rejects(Client.open(`${agent.connectUrl}?token=wct_made_up`), /HTTP 401/);
  await assert.rejects(Client.open(`${agent.connectUrl}?token=sk_wrong_key&agent_id=a&mode=video`), /HTTP 400/);
});

test('with a list of agents, an agent it does not play is refused after the upgrade and at register-call', TIMEOUT, async (t) => {
  const agent = await startAgent(t, { greeting: '', agents: { 'agent-known': { name: 'Known' } } });
  const { frame, close } = await refusedAfterUpgrade(t, `${agent.connectUrl}?token=${KEY}&agent_id=agent-other`);
  assert.deepEqual(frame, { type: 'error', code: '401', message: 'Agent not found.' });
  assert.equal(close.code, 4000);
  const unknown = await registerCall(agent, { agent_id: 'agent-other' });
  assert.equal(unknown.status, 404);
  assert.deepEqual(unknown.body, { status: false, errors: ['Agent not found'] });
  assert.equal(agent.sessions.length, 0);

  const client = await Client.open(`${agent.connectUrl}?token=${KEY}&agent_id=agent-known`);
  t.after(() => client.ws.terminate());
  await client.next('session.created');
  const token = await mintToken(agent, { agent_id: 'agent-known' });
  const second = await Client.open(`${agent.connectUrl}?token=${token}`);
  t.after(() => second.ws.terminate());
  await second.next('session.created');
  assert.deepEqual(
    agent.sessions.map((s) => s.agentId),
    ['agent-known', 'agent-known'],
  );
});

test('close() ends connections still closing after a setup failure', TIMEOUT, async () => {
  const agent = await LocalAgent.start();
  // A bare TCP client that upgrades and then never answers the agent's close frame.
  const socket = connect(Number(new URL(agent.origin).port), '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  socket.write(
    'GET /atoms/v1/agent/connect?token=sk_wrong_key&agent_id=a HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n' +
      'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  // The close frame's payload starts with the code: 4000 is 0x0f 0xa0.
  for (let i = 0; i < 200 && !received.includes('\x0f\xa0'); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.match(received, /^HTTP\/1\.1 101 /);
  assert.ok(received.includes('\x0f\xa0'), 'the agent sent its close frame');
  const dropped = new Promise((resolve) => socket.once('close', resolve));
  const started = performance.now();
  await agent.close();
  await dropped;
  assert.ok(performance.now() - started < 1000, 'close() does not wait for the client to answer');
});

test('session.created has the documented shape and an empty greeting says nothing', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  const { client, created, session } = await openCall(t, agent);
  assert.deepEqual(Object.keys(created).sort(), ['call_id', 'channels', 'sample_rate', 'session_id', 'type']);
  assert.match(created.session_id, /^sess_[0-9a-f]+$/);
  assert.match(created.call_id, /^CALL-\d{13}-[0-9a-f]{6}$/);
  assert.equal(created.sample_rate, RATE);
  assert.equal(created.channels, 1);
  assert.equal(session.callId, created.call_id);
  const { skipped } = await client.sync();
  assert.deepEqual(skipped, [], 'no greeting');
});

// ---------------------------------------------------------------------------------------------
// speaking

test('the greeting streams start, 40 ms audio, cumulative captions in realtime, transcript, stop', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  const greeting = 'Hi there, friend.';
  const { client, session } = await openCall(t, agent, { variables: { greeting } });
  const { frame: start } = await client.next('agent_start_talking');
  const startedAt = performance.now();
  assert.match(start.timestamp, TIMESTAMP);
  const { frame: final, skipped } = await client.next(isFinal('assistant'));
  const elapsed = performance.now() - startedAt;
  assert.equal(final.text, greeting);
  assertCumulative(deltasOf(skipped), greeting);
  assert.deepEqual(deltasOf(skipped), ['Hi', 'Hi there,', 'Hi there, friend.']);

  const audio = skipped.filter((frame) => frame.type === 'output_audio.delta');
  assert.ok(skipped.findIndex((frame) => frame.type === 'output_audio.delta') < skipped.findIndex((frame) => frame.type === 'transcript.delta'));
  for (const chunk of audio) assert.equal(decodeAudio(chunk), 960, 'every chunk is 40 ms at 24 kHz');
  const expectedMs = Math.ceil(synthesizeSpeech(greeting, RATE).durationMs / 40) * 40;
  assert.equal(audio.length * 40, expectedMs);
  assert.ok(elapsed >= expectedMs - 30, `the final transcript waits for realtime playback (${elapsed} ms)`);

  const { frame: stop, skipped: between } = await client.next('agent_stop_talking');
  assert.deepEqual(between, []);
  assert.match(stop.timestamp, TIMESTAMP);
  assert.equal(session.audioSentMs, expectedMs);
});

test('without a greeting variable the agent speaks its default greeting', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  const { client } = await openCall(t, agent, { variables: {} });
  const { frame } = await client.next((f) => f.type === 'transcript.delta');
  assert.deepEqual(frame, { type: 'transcript.delta', role: 'assistant', text: 'Hello!' });
  await client.next((f) => f.type === 'transcript.delta' && f.text === "Hello! I'm");
});

test('a spoken turn gets a user transcript and an echo reply', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  const { client, session } = await openCall(t, agent);
  const speech = synthesizeSpeech('Hello agent, please repeat this.', RATE);
  const input = new Int16Array(speech.pcm.length + 0.2 * RATE + 0.8 * RATE);
  input.set(speech.pcm, 0.2 * RATE);
  const frames = sendAudio(client, input);

  const { frame: userFinal, skipped: userCaptions } = await client.next(isFinal('user'));
  const live = deltasOf(userCaptions, 'user');
  assert.ok(live.length >= 3, 'live captions while the user speaks');
  for (const text of live) assert.match(text, /^\(speaking, \d+\.\d s\)$/);
  const seconds = (speech.durationMs / 1000).toFixed(1);
  assert.equal(userFinal.text, `(${seconds} s of speech)`);

  await client.next('agent_start_talking');
  const { frame: reply, skipped } = await client.next(isFinal('assistant'));
  assert.equal(reply.text, `You said: (echo of ${seconds} s)`);
  assertCumulative(deltasOf(skipped), reply.text);
  const audioMs = skipped.filter((frame) => frame.type === 'output_audio.delta').length * 40;
  assert.ok(audioMs > speech.durationMs, 'the reply holds the echoed speech');
  await client.next('agent_stop_talking');

  assert.equal(session.turns, 1);
  assert.equal(session.appendFrames, frames);
  assert.deepEqual(session.frameSamples, { 480: frames });
  assert.ok(session.maxInputRms >= 0.1 && session.maxInputRms <= 0.3, `maxInputRms ${session.maxInputRms}`);
  assert.ok(session.inputCorrelation > 0.8, `voice is smooth: inputCorrelation ${session.inputCorrelation}`);
  assert.equal(session.audioSentMs, audioMs);
});

test('speech sent with its bytes swapped reaches the agent as noise', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  const { client, session } = await openCall(t, agent, { variables: { greeting: '' } });
  const speech = synthesizeSpeech('Hello there, agent', RATE).pcm;
  const swapped = new Int16Array(speech.length + 0.8 * RATE); // then silence, which ends the turn
  const view = new DataView(swapped.buffer);
  for (let i = 0; i < speech.length; i++) view.setInt16(i * 2, speech[i], false); // big-endian bytes
  sendAudio(client, swapped);
  await client.next(isFinal('user'));
  assert.ok(Math.abs(session.inputCorrelation) < 0.3, `inputCorrelation ${session.inputCorrelation}`);
});

test('speech during the agent turn interrupts it and the transcript keeps only what was heard', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  const { client, session } = await openCall(t, agent, { variables: { greeting: LONG_GREETING } });
  await client.next((f) => f.type === 'transcript.delta' && f.text.split(' ').length === 3);
  const word = synthesizeSpeech('Stop', RATE).pcm;
  sendAudio(client, word.subarray(0.02 * RATE, 0.12 * RATE)); // 100 ms from the middle of a word

  await client.next('interruption');
  const beforeInterruption = client.frames.slice(0, client.cursor);
  assert.ok(!beforeInterruption.some((frame) => frame.type === 'agent_stop_talking'));
  const { frame: heard, skipped } = await client.next(isFinal('assistant'));
  assert.deepEqual(skipped, [], 'the truncated transcript follows the interruption at once');
  const captions = deltasOf(beforeInterruption);
  assert.ok(LONG_GREETING.startsWith(heard.text), `"${heard.text}" is a prefix of the greeting`);
  assert.ok(heard.text.length < LONG_GREETING.length);
  assert.ok(heard.text.startsWith(captions.at(-1)), 'it holds at least the words already captioned');

  const { skipped: after } = await client.sync();
  assert.ok(
    !after.some((frame) => ['output_audio.delta', 'transcript.delta', 'agent_stop_talking'].includes(frame.type) && frame.role !== 'user'),
    `nothing more of the interrupted turn: ${after.map((f) => f.type)}`,
  );
  assert.equal(session.interruptions, 1);
  assert.ok(session.audioSentMs < synthesizeSpeech(LONG_GREETING, RATE).durationMs);
});

test('typed text during the agent turn interrupts it, and a voice call answers it aloud', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  const { client, session } = await openCall(t, agent, { variables: { greeting: LONG_GREETING } });
  await client.next('output_audio.delta');
  client.send({ type: 'input_text.send', text: 'How are you?' });
  await client.next('interruption');
  const { frame: heard } = await client.next(isFinal('assistant'));
  assert.ok(LONG_GREETING.startsWith(heard.text));

  await client.next('agent_start_talking');
  const { frame: reply, skipped } = await client.next(isFinal('assistant'));
  assert.equal(reply.text, 'You wrote: How are you?');
  assertCumulative(deltasOf(skipped), reply.text);
  assert.ok(skipped.some((frame) => frame.type === 'output_audio.delta'));
  await client.next('agent_stop_talking');
  assert.deepEqual(session.textInputs, ['How are you?']);
  assert.equal(session.interruptions, 1);
});

test('chat mode answers in text only', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  const { client, session } = await openCall(t, agent, { mode: 'chat', variables: {} });
  const { skipped: quiet } = await client.sync();
  assert.deepEqual(quiet, [], 'no greeting in chat');

  client.send({ type: 'input_text.send', text: 'hello there agent' });
  const { frame: start } = await client.next('agent_start_talking');
  assert.match(start.timestamp, TIMESTAMP);
  const { frame: reply, skipped } = await client.next(isFinal('assistant'));
  assert.equal(reply.text, 'You wrote: hello there agent');
  assert.deepEqual(deltasOf(skipped), ['You', 'You wrote:', 'You wrote: hello', 'You wrote: hello there', 'You wrote: hello there agent']);
  await client.next('agent_stop_talking');

  client.send({ type: 'input_audio_buffer.append', audio: base64Pcm(new Int16Array(480)) });
  const { frame: error } = await client.next('error');
  assert.equal(error.code, 'invalid_event');
  assert.ok(!client.types().includes('output_audio.delta'));
  assert.equal(session.audioSentMs, 0);
  assert.equal(session.appendFrames, 0);
});

test('"Goodbye." in chat ends the session', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  const { client, session } = await openCall(t, agent, { mode: 'chat' });
  client.send({ type: 'input_text.send', text: '  Goodbye. ' });
  const { frame: reply } = await client.next(isFinal('assistant'));
  assert.equal(reply.text, 'Goodbye!');
  await client.next('agent_stop_talking');
  const { frame: closed, skipped } = await client.next('session.closed');
  assert.deepEqual(skipped, []);
  assert.deepEqual(closed, { type: 'session.closed', reason: 'ended' });
  assert.equal((await client.closed).code, 1000);
  assert.equal(session.closeReason, 'ended');
});

test('"bye" in a voice call is answered aloud, then the session ends', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  const { client, session } = await openCall(t, agent);
  client.send({ type: 'input_text.send', text: 'bye!' });
  const { frame: reply, skipped } = await client.next(isFinal('assistant'));
  assert.equal(reply.text, 'Goodbye!');
  assert.ok(skipped.some((frame) => frame.type === 'output_audio.delta'));
  await client.next('agent_stop_talking');
  const { frame: closed } = await client.next('session.closed');
  assert.equal(closed.reason, 'ended');
  assert.equal((await client.closed).code, 1000);
  assert.equal(session.closeReason, 'ended');
  assert.ok(session.closedAt >= session.openedAt);
});

test('session.close is answered with session.closed (client_requested) and close code 1000', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  const { client, session } = await openCall(t, agent);
  client.send({ type: 'session.close' });
  const { frame } = await client.next('session.closed');
  assert.deepEqual(frame, { type: 'session.closed', reason: 'client_requested' });
  assert.equal((await client.closed).code, 1000);
  assert.equal(session.closeReason, 'client_requested');
  assert.equal(typeof session.closedAt, 'number');
});

test('a client that just closes the socket is recorded as websocket_closed', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  const { client, session } = await openCall(t, agent, { variables: { greeting: LONG_GREETING } });
  await client.next('output_audio.delta');
  client.ws.close();
  await client.closed;
  // The server sees the close on its own schedule: poll its record briefly.
  for (let i = 0; i < 100 && session.closeReason === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(session.closeReason, 'websocket_closed');
});

test('malformed, unknown and binary frames get invalid_event and the session carries on', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  const { client, session } = await openCall(t, agent);
  const bad = [
    'not json',
    '[1,2,3]',
    'null',
    '"text"',
    JSON.stringify({}),
    JSON.stringify({ type: 42 }),
    JSON.stringify({ type: 'response.create' }),
    JSON.stringify({ type: 'input_audio_buffer.append' }),
    JSON.stringify({ type: 'input_audio_buffer.append', audio: '' }),
    JSON.stringify({ type: 'input_audio_buffer.append', audio: 7 }),
    JSON.stringify({ type: 'input_audio_buffer.append', audio: '@@not base64@@' }),
    JSON.stringify({ type: 'input_audio_buffer.append', audio: 'AAA' }),
    JSON.stringify({ type: 'input_audio_buffer.append', audio: 'AA==' }), // one byte: not PCM16
    JSON.stringify({ type: 'input_text.send' }),
    JSON.stringify({ type: 'input_text.send', text: '   ' }),
    JSON.stringify({ type: 'input_text.send', text: 'x'.repeat(4001) }),
  ];
  for (const frame of bad) {
    client.send(frame);
    const { frame: error, skipped } = await client.next('error');
    assert.deepEqual(skipped, []);
    assert.equal(error.code, 'invalid_event', frame.slice(0, 40));
    assert.equal(typeof error.message, 'string');
    assert.ok(error.message.length > 0);
  }
  client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  assert.equal((await client.next('error')).frame.code, 'invalid_event');

  // Accepted no-ops, then proof the session still works.
  client.send({ type: 'input_audio_buffer.commit' });
  client.send({ type: 'session.update', tools: [] });
  client.send({ type: 'input_text.send', text: 'still there?' });
  const { frame: reply, skipped } = await client.next(isFinal('assistant'));
  assert.ok(!skipped.some((frame) => frame.type === 'error'));
  assert.equal(reply.text, 'You wrote: still there?');
  assert.equal(session.invalidEvents, bad.length + 1);
  assert.equal(session.appendFrames, 0);
});

test('append frames are counted with a histogram of their sizes', TIMEOUT, async (t) => {
  const agent = await startAgent(t);
  const { client, session } = await openCall(t, agent);
  sendAudio(client, new Int16Array(480 * 5), 480);
  sendAudio(client, new Int16Array(960 * 3), 960);
  sendAudio(client, new Int16Array(2400), 2400);
  client.send({ type: 'input_audio_buffer.append', audio: 'AA==' });
  await client.sync();
  assert.equal(session.appendFrames, 9);
  assert.deepEqual(session.frameSamples, { 480: 5, 960: 3, 2400: 1 });
  assert.equal(session.maxInputRms, 0);
  assert.equal(session.turns, 0);
  assert.equal(session.invalidEvents, 2);
  assert.deepEqual(JSON.parse(JSON.stringify(session)), session, 'the stats are plain JSON');
});

// ---------------------------------------------------------------------------------------------
// lifecycle

test('close() ends every session with 1001 and stops the server', TIMEOUT, async (t) => {
  const agent = await LocalAgent.start();
  const registerUrl = `${agent.restBaseUrl}/conversation/register-call`;
  const first = await openCall(t, agent, { variables: { greeting: LONG_GREETING } });
  const second = await openCall(t, agent, { mode: 'chat' });
  await first.client.next('output_audio.delta');
  const closing = agent.close();
  assert.equal(agent.close(), closing, 'a second call returns the same promise');
  await closing;
  assert.equal((await first.client.closed).code, 1001);
  assert.equal((await second.client.closed).code, 1001);
  assert.deepEqual(
    agent.sessions.map((s) => s.closeReason),
    ['server_shutdown', 'server_shutdown'],
  );
  await assert.rejects(fetch(registerUrl, { method: 'POST' }));
});

test('attached to a shared server, the agent leaves other requests and upgrades alone', TIMEOUT, async (t) => {
  const other = new WebSocketServer({ noServer: true });
  const server = createServer((req, res) => {
    if (agent.handleRequest(req, res)) return;
    res.end('app');
  });
  server.on('upgrade', (req, socket, head) => {
    if (req.url === '/other') other.handleUpgrade(req, socket, head, (ws) => ws.send('other'));
  });
  const agent = LocalAgent.attach(server, { greeting: '' });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    await agent.close();
    for (const ws of other.clients) ws.terminate();
    other.close();
    await new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections();
    });
  });

  assert.equal(await (await fetch(`${agent.origin}/hello`)).text(), 'app');
  const { client } = await openCall(t, agent);
  assert.equal(agent.sessions.length, 1);

  const otherSocket = new WebSocket(`ws://127.0.0.1:${server.address().port}/other`);
  t.after(() => otherSocket.terminate());
  const [message] = await new Promise((resolve, reject) => {
    otherSocket.once('message', (...args) => resolve(args));
    otherSocket.once('error', reject);
  });
  assert.equal(String(message), 'other');

  await agent.close();
  assert.equal((await client.closed).code, 1001);
  assert.ok(server.listening, 'the shared server keeps running');
  assert.equal(await (await fetch(`${agent.origin}/hello`)).text(), 'app');
});

test('the log never receives a token or the key', TIMEOUT, async (t) => {
  const lines = [];
  const agent = await startAgent(t, { log: (line) => lines.push(line) });
  const token = await mintToken(agent);
  const client = await Client.open(`${agent.connectUrl}?token=${token}`);
  t.after(() => client.ws.terminate());
  await client.next('session.created');
  await assert.rejects(Client.open(`${agent.connectUrl}?token=${token}`), /HTTP 401/);
  await registerCall(agent, { agent_id: 'a' }, { key: 'sk_guess' });
  client.send({ type: 'session.close' });
  await client.closed;
  await agent.close();
  assert.ok(lines.length >= 5, lines.join('\n'));
  for (const line of lines) {
    assert.ok(!line.includes(token) && !line.includes('wct_') && !line.includes('sk_'), line);
  }
});

test('invalid options are rejected', async () => {
  await assert.rejects(LocalAgent.start({ port: -1 }), RangeError);
  await assert.rejects(LocalAgent.start({ apiKey: '' }), RangeError);
  await assert.rejects(LocalAgent.start({ speechThreshold: 2 }), RangeError);
  assert.throws(() => LocalAgent.attach(createServer(), { sampleRate: 1 }), RangeError);
});
