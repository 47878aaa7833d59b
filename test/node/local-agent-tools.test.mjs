/**
 * Client tools on the local agent's side (PROTOCOLS §1.7), through a real `ws` client: declaring tools
 * with `session.update`, the refusals, calling a tool on a user turn that holds the trigger, reading
 * the result, and the errors Atoms sends for a result that is late, unexpected or too large.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client } from '../support/agent-client.mjs';
import { LocalAgent, synthesizeSpeech } from '../../dist/local-agent/index.js';

const KEY = 'sk_local_dev';
const RATE = 24000;
const TIMEOUT = { timeout: 20_000 };
const LIMIT = 64 * 1024;

async function openCall(t, { mode = 'chat', variables = {} } = {}) {
  const agent = await LocalAgent.start();
  t.after(() => agent.close());
  const response = await fetch(`${agent.restBaseUrl}/conversation/register-call`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ agent_id: 'agent-tools', mode, variables: { greeting: '', ...variables } }),
  });
  const token = (await response.json()).data.access_token;
  const client = await Client.open(`${agent.connectUrl}?token=${token}`);
  t.after(() => client.ws.terminate());
  const { frame } = await client.next('session.created');
  return { client, session: agent.sessions.find((s) => s.sessionId === frame.session_id) };
}

const tool = (name, extra = {}) => ({
  type: 'function',
  name,
  description: `The ${name} tool`,
  parameters: { type: 'object', properties: { city: { type: 'string' } } },
  timeout_ms: 15000,
  expectsResponse: true,
  ...extra,
});
const isError = (code) => (frame) => frame.type === 'error' && frame.code === code;
const assistantFinal = (frame) => frame.type === 'transcript' && frame.role === 'assistant';

test('session.update with tools is confirmed by session.updated with their names; without tools it is a no-op', TIMEOUT, async (t) => {
  const { client, session } = await openCall(t);
  client.send({ type: 'session.update' });
  const { skipped } = await client.sync();
  assert.deepEqual(skipped, [], 'session.update without tools says nothing');
  assert.equal(session.toolUpdates, 0);

  client.send({ type: 'session.update', tools: [tool('get_weather'), { type: 'function', name: 'ping' }] });
  const { frame } = await client.next('session.updated');
  assert.deepEqual(frame, { type: 'session.updated', tools: ['get_weather', 'ping'] });
  assert.equal(session.toolUpdates, 1);
  assert.deepEqual(session.tools, [
    { name: 'get_weather', description: 'The get_weather tool', parameters: { type: 'object', properties: { city: { type: 'string' } } }, timeoutMs: 15000, expectsResponse: true },
    // The documented defaults.
    { name: 'ping', description: '', parameters: { type: 'object', properties: {} }, timeoutMs: 15000, expectsResponse: true },
  ]);

  // Each update replaces the whole set; an empty one clears it.
  client.send({ type: 'session.update', tools: [] });
  assert.deepEqual((await client.next('session.updated')).frame.tools, []);
  assert.deepEqual(session.tools, []);
  assert.equal(session.toolUpdates, 2);
});

test('invalid tool definitions are refused with invalid_tools, and the set in force stays', TIMEOUT, async (t) => {
  const { client, session } = await openCall(t);
  client.send({ type: 'session.update', tools: [tool('keep_me')] });
  await client.next('session.updated');
  const invalid = [
    { tools: 'get_weather' },
    { tools: [null] },
    { tools: [tool('bad name!')] },
    { tools: [tool('x'.repeat(65))] },
    { tools: [tool('')] },
    { tools: [tool('twice'), tool('twice')] },
    { tools: [tool('typed', { type: 'retrieval' })] },
    { tools: [tool('described', { description: 42 })] },
    { tools: [tool('schema', { parameters: 'object' })] },
    { tools: [tool('hasty', { timeout_ms: 999 })] },
    { tools: [tool('patient', { timeout_ms: 60_001 })] },
    { tools: [tool('fractional', { timeout_ms: 1500.5 })] },
    { tools: [tool('unsure', { expectsResponse: 'yes' })] },
  ];
  for (const update of invalid) {
    client.send({ type: 'session.update', ...update });
    const { frame, skipped } = await client.next('error');
    assert.deepEqual(skipped, []);
    assert.equal(frame.code, 'invalid_tools', JSON.stringify(update).slice(0, 60));
    assert.ok(frame.message.length > 0);
  }
  // The limits themselves are accepted.
  client.send({ type: 'session.update', tools: [tool('a'.repeat(64), { timeout_ms: 1000 }), tool('Z-9_', { timeout_ms: 60_000 })] });
  assert.deepEqual((await client.next('session.updated')).frame.tools, ['a'.repeat(64), 'Z-9_']);
  assert.equal(session.toolErrors.length, invalid.length);
  assert.ok(session.toolErrors.every((code) => code === 'invalid_tools'));
  assert.equal(session.toolUpdates, invalid.length + 2);
});

test('a name an enabled dashboard tool has is refused with tool_name_conflict', TIMEOUT, async (t) => {
  const { client, session } = await openCall(t, { variables: { dashboard_tools: 'transfer_call, lookup_order' } });
  client.send({ type: 'session.update', tools: [tool('get_weather'), tool('lookup_order')] });
  const { frame } = await client.next('error');
  assert.equal(frame.code, 'tool_name_conflict');
  assert.match(frame.message, /lookup_order/);
  assert.deepEqual(session.tools, []);
  client.send({ type: 'session.update', tools: [tool('get_weather')] });
  assert.deepEqual((await client.next('session.updated')).frame.tools, ['get_weather']);
});

test('an agent whose configuration manages its tools refuses every update with client_tools_managed_by_config', TIMEOUT, async (t) => {
  const { client, session } = await openCall(t, { variables: { tools_managed_by_config: true } });
  for (const tools of [[tool('get_weather')], []]) {
    client.send({ type: 'session.update', tools });
    assert.equal((await client.next('error')).frame.code, 'client_tools_managed_by_config');
  }
  assert.deepEqual(session.toolErrors, ['client_tools_managed_by_config', 'client_tools_managed_by_config']);
});

test('a typed turn holding the trigger calls the tool, and the reply reads its result', TIMEOUT, async (t) => {
  const { client, session } = await openCall(t, {
    variables: { tool_trigger: 'WEATHER', tool_name: 'get_weather', tool_arguments: '{"city":"Paris","days":2}' },
  });
  client.send({ type: 'session.update', tools: [tool('ping'), tool('get_weather')] });
  await client.next('session.updated');

  // No trigger: the usual answer.
  client.send({ type: 'input_text.send', text: 'hello' });
  assert.equal((await client.next(assistantFinal)).frame.text, 'You wrote: hello');

  client.send({ type: 'input_text.send', text: "What's the weather like?" });
  const { frame: call, skipped } = await client.next('function_call');
  assert.ok(!skipped.some((frame) => frame.type === 'agent_start_talking'), 'no reply before the result');
  assert.match(call.call_id, /^call_[0-9a-f]{16}$/);
  assert.equal(call.name, 'get_weather');
  assert.deepEqual(call.arguments, { city: 'Paris', days: 2 });
  assert.deepEqual(session.toolCalls, [{ callId: call.call_id, name: 'get_weather', arguments: { city: 'Paris', days: 2 }, outcome: 'waiting' }]);

  client.send({ type: 'function_call.result', call_id: call.call_id, output: '{"temperature":21,"sky":"clear"}' });
  const { frame: reply } = await client.next(assistantFinal);
  assert.equal(reply.text, 'The tool get_weather answered (32 bytes): {"temperature":21,"sky":"clear"}');
  await client.next('agent_stop_talking');
  assert.equal(session.toolCalls[0].outcome, 'answered');
  assert.equal(session.toolCalls[0].output, '{"temperature":21,"sky":"clear"}');

  // Answered once: a second result for the same call is unexpected.
  client.send({ type: 'function_call.result', call_id: call.call_id, output: 'again' });
  assert.match((await client.next(isError('unknown_call_id'))).frame.message, new RegExp(call.call_id));
  assert.deepEqual(session.toolErrors, ['unknown_call_id']);
});

test('without tool_name the first declared tool is called; tool_arguments_as "string" sends JSON text', TIMEOUT, async (t) => {
  const { client } = await openCall(t, { variables: { tool_trigger: 'go', tool_arguments: '{"n":1}', tool_arguments_as: 'string' } });
  client.send({ type: 'input_text.send', text: 'go now' });
  // Nothing declared and no name: nothing to call.
  assert.equal((await client.next(assistantFinal)).frame.text, 'You wrote: go now');
  client.send({ type: 'session.update', tools: [tool('first'), tool('second')] });
  await client.next('session.updated');
  client.send({ type: 'input_text.send', text: 'go now' });
  const { frame: call } = await client.next('function_call');
  assert.equal(call.name, 'first');
  assert.equal(call.arguments, '{"n":1}');
});

test('a tool the page did not declare is called all the same (to see the client refuse it)', TIMEOUT, async (t) => {
  const { client, session } = await openCall(t, { variables: { tool_trigger: 'go', tool_name: 'not_declared' } });
  client.send({ type: 'input_text.send', text: 'go' });
  const { frame: call } = await client.next('function_call');
  assert.equal(call.name, 'not_declared');
  assert.deepEqual(call.arguments, {});
  client.send({ type: 'function_call.result', call_id: call.call_id, output: 'Error: this page has no tool named "not_declared".' });
  assert.match((await client.next(assistantFinal)).frame.text, /^The tool not_declared answered \(\d+ bytes\): Error: this page has no tool/);
  assert.equal(session.toolCalls[0].outcome, 'answered');
});

test('a result over 64 KB gets result_too_large and the call keeps waiting for one that fits', TIMEOUT, async (t) => {
  const { client, session } = await openCall(t, { variables: { tool_trigger: 'go' } });
  client.send({ type: 'session.update', tools: [tool('big')] });
  await client.next('session.updated');
  client.send({ type: 'input_text.send', text: 'go' });
  const { frame: call } = await client.next('function_call');
  // Bytes, not characters: 21846 three-byte characters are 65538 bytes.
  client.send({ type: 'function_call.result', call_id: call.call_id, output: '€'.repeat(21_846) });
  const { frame: error } = await client.next('error');
  assert.equal(error.code, 'result_too_large');
  assert.match(error.message, /65538 bytes/);
  assert.equal(session.toolCalls[0].outcome, 'waiting');
  // Exactly the limit fits.
  const fits = '€'.repeat(21_845) + 'x';
  assert.equal(Buffer.byteLength(fits), LIMIT);
  client.send({ type: 'function_call.result', call_id: call.call_id, output: fits });
  const { frame: reply, skipped } = await client.next(assistantFinal);
  assert.ok(!skipped.some((frame) => frame.type === 'error'));
  assert.match(reply.text, new RegExp(`^The tool big answered \\(${LIMIT} bytes\\): €{100}…$`));
  assert.equal(session.toolCalls[0].output.length, fits.length);
  assert.deepEqual(session.toolErrors, ['result_too_large']);
});

test('no result within timeout_ms gets tool_timeout; a result after it gets unknown_call_id', TIMEOUT, async (t) => {
  const { client, session } = await openCall(t, { variables: { tool_trigger: 'slow' } });
  client.send({ type: 'session.update', tools: [tool('slow_tool', { timeout_ms: 1000 })] });
  await client.next('session.updated');
  client.send({ type: 'input_text.send', text: 'slow please' });
  const { frame: call } = await client.next('function_call');
  const calledAt = performance.now();
  const { frame: error } = await client.next(isError('tool_timeout'));
  const waited = performance.now() - calledAt;
  assert.ok(waited >= 950 && waited < 3000, `tool_timeout after ${Math.round(waited)} ms`);
  assert.match(error.message, new RegExp(call.call_id));
  assert.equal((await client.next(assistantFinal)).frame.text, 'The tool slow_tool did not answer in time.');
  assert.equal(session.toolCalls[0].outcome, 'timed-out');
  client.send({ type: 'function_call.result', call_id: call.call_id, output: 'too late' });
  await client.next(isError('unknown_call_id'));
  assert.deepEqual(session.toolErrors, ['tool_timeout', 'unknown_call_id']);
  assert.equal(session.toolCalls[0].output, undefined);
});

test('a fire-and-forget tool is called without waiting; a result for it is unexpected', TIMEOUT, async (t) => {
  const { client, session } = await openCall(t, { variables: { tool_trigger: 'light' } });
  client.send({ type: 'session.update', tools: [tool('lights_on', { expectsResponse: false })] });
  await client.next('session.updated');
  client.send({ type: 'input_text.send', text: 'light, please' });
  const { frame: call } = await client.next('function_call');
  assert.equal((await client.next(assistantFinal)).frame.text, 'I asked the page to run lights_on.');
  assert.equal(session.toolCalls[0].outcome, 'fire-and-forget');
  client.send({ type: 'function_call.result', call_id: call.call_id, output: 'done' });
  await client.next(isError('unknown_call_id'));
});

test('a made-up call id gets unknown_call_id; a malformed result gets invalid_event', TIMEOUT, async (t) => {
  const { client, session } = await openCall(t);
  client.send({ type: 'function_call.result', call_id: 'call_nope', output: 'x' });
  assert.equal((await client.next('error')).frame.code, 'unknown_call_id');
  for (const frame of [{ output: 'x' }, { call_id: '', output: 'x' }, { call_id: 'call_1' }, { call_id: 'call_1', output: { a: 1 } }]) {
    client.send({ type: 'function_call.result', ...frame });
    assert.equal((await client.next('error')).frame.code, 'invalid_event', JSON.stringify(frame));
  }
  assert.equal(session.invalidEvents, 4);
  assert.deepEqual(session.toolErrors, ['unknown_call_id']);
});

test('in a voice call a spoken turn can trigger the tool, and the agent speaks what it read', TIMEOUT, async (t) => {
  const { client, session } = await openCall(t, { mode: 'webcall', variables: { tool_trigger: 'speech', tool_arguments: '{"q":"status"}' } });
  client.send({ type: 'session.update', tools: [tool('status')] });
  await client.next('session.updated');
  const speech = synthesizeSpeech('What is the status of my order?', RATE);
  const input = new Int16Array(speech.pcm.length + 0.2 * RATE + 0.8 * RATE);
  input.set(speech.pcm, 0.2 * RATE);
  for (let start = 0; start < input.length; start += 480) {
    const frame = Buffer.alloc(960);
    input.subarray(start, start + 480).forEach((sample, i) => frame.writeInt16LE(sample, i * 2));
    client.send({ type: 'input_audio_buffer.append', audio: frame.toString('base64') });
  }
  const { frame: user } = await client.next((frame) => frame.type === 'transcript' && frame.role === 'user');
  assert.match(user.text, /s of speech\)$/);
  const { frame: call, skipped } = await client.next('function_call');
  assert.ok(!skipped.some((frame) => frame.type === 'output_audio.delta'), 'no echo reply: the turn went to the tool');
  assert.deepEqual(call.arguments, { q: 'status' });
  client.send({ type: 'function_call.result', call_id: call.call_id, output: 'shipped' });
  const { frame: reply, skipped: spoken } = await client.next(assistantFinal);
  assert.equal(reply.text, 'The tool status answered (7 bytes): shipped');
  assert.ok(spoken.some((frame) => frame.type === 'output_audio.delta'), 'the answer is spoken');
  assert.equal(session.toolCalls.length, 1);
});
