/**
 * The local agent's injected faults (`injectFaults`), each against a real `ws` client: they are
 * taken one per connection, in order, for their agent only, and each does what it says.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { Client } from '../support/agent-client.mjs';
import { LocalAgent } from '../../dist/local-agent/index.js';

const KEY = 'sk_local_dev';

async function startAgent(t) {
  const agent = await LocalAgent.start();
  t.after(() => agent.close());
  /** A fresh token's connection URL for `agentId`. */
  const connectUrl = async (agentId, mode = 'chat') => {
    const response = await fetch(`${agent.restBaseUrl}/conversation/register-call`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ agent_id: agentId, mode, variables: { greeting: '' } }),
    });
    return `${agent.connectUrl}?token=${(await response.json()).data.access_token}`;
  };
  const open = async (agentId, mode) => {
    const client = await Client.open(await connectUrl(agentId, mode));
    t.after(() => client.ws.terminate());
    return client;
  };
  return { agent, connectUrl, open };
}

test('faults are taken one per connection, in order, for their agent only; then connections are healthy', async (t) => {
  const { agent, connectUrl, open } = await startAgent(t);
  agent.injectFaults('a', [{ type: 'refuse', status: 503 }, { type: 'none' }, { type: 'refuse', status: 403 }]);
  const other = await open('b');
  await other.next('session.created');
  await assert.rejects(Client.open(await connectUrl('a')), /HTTP 503/);
  const healthy = await open('a');
  await healthy.next('session.created');
  await assert.rejects(Client.open(await connectUrl('a')), /HTTP 403/);
  const after = await open('a');
  await after.next('session.created');
  agent.injectFaults('a', [{ type: 'refuse', status: 401 }]);
  agent.clearFaults();
  await (await open('a')).next('session.created');
});

test('unknown faults are refused when injected', async (t) => {
  const { agent } = await startAgent(t);
  for (const fault of [{ type: 'explode' }, { type: 'refuse', status: 200 }, { type: 'drop', afterMs: -1 }, { type: 'end' }, null]) {
    assert.throws(() => agent.injectFaults('a', [fault]), /unknown fault/, JSON.stringify(fault));
  }
});

test('silent: the connection opens and no session is announced', async (t) => {
  const { agent, open } = await startAgent(t);
  agent.injectFaults('a', [{ type: 'silent' }]);
  const client = await open('a');
  await assert.rejects(client.next('session.created', 300), /timed out/);
  assert.equal(agent.sessions.length, 0);
});

test('setup-error: an error frame with the code, then close 4000', async (t) => {
  const { agent, open } = await startAgent(t);
  agent.injectFaults('a', [{ type: 'setup-error', code: '403', message: 'Forbidden agent' }]);
  const client = await open('a');
  const { frame } = await client.next('error');
  assert.deepEqual(frame, { type: 'error', code: '403', message: 'Forbidden agent' });
  assert.equal((await client.closed).code, 4000);
});

test('drop: after a time with no close frame (1006), or mid-reply with a close code', async (t) => {
  const { agent, open } = await startAgent(t);
  agent.injectFaults('a', [{ type: 'drop', afterMs: 50 }, { type: 'drop', midReply: true, closeCode: 1011 }]);
  const timed = await open('a');
  await timed.next('session.created');
  assert.equal((await timed.closed).code, 1006);
  const midReply = await open('a');
  await midReply.next('session.created');
  midReply.send({ type: 'input_text.send', text: 'hello' });
  await midReply.next((frame) => frame.role === 'assistant');
  assert.equal((await midReply.closed).code, 1011);
  assert.equal(agent.sessions[1].textInputs.length, 1);
});

test('end: session.closed with the reason, then close 1000', async (t) => {
  const { agent, open } = await startAgent(t);
  agent.injectFaults('a', [{ type: 'end', reason: 'max_duration_reached', afterMs: 20 }]);
  const client = await open('a');
  const { frame } = await client.next('session.closed');
  assert.equal(frame.reason, 'max_duration_reached');
  assert.equal((await client.closed).code, 1000);
  assert.equal(agent.sessions[0].closeReason, 'max_duration_reached');
});

test('stop-reading: what the client sends piles up in its buffer until the agent reads again', async (t) => {
  const { agent, open } = await startAgent(t);
  agent.injectFaults('a', [{ type: 'stop-reading', resumeAfterMs: 1500 }]);
  const client = await open('a');
  await client.next('session.created');
  const frame = JSON.stringify({ type: 'input_text.send', text: 'x'.repeat(3900) });
  // Far more than loopback's kernel buffers hold: the rest must wait in the client.
  for (let i = 0; i < 4000; i++) client.ws.send(frame);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.ok(client.ws.bufferedAmount > 1_000_000, `bufferedAmount ${client.ws.bufferedAmount}`);
  assert.equal(agent.sessions[0].textInputs.length, 0, 'the agent has read nothing');
  await client.sync();
  assert.equal(client.ws.readyState, WebSocket.OPEN);
  assert.equal(agent.sessions[0].textInputs.length, 4000, 'everything arrives once it reads again');
});
