/**
 * Every way a call can fail, end to end with real sockets and HTTP: each ends in `disconnected`, one
 * `va-error` with a stable code, a sentence in the UI, and nothing left open.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { expectAllReleased, installSpies, loadBundle, nextEvent, part, recordEvents, serverCommand, type VoiceAgentElement, waitUntil } from '../support/harness.js';

const spies = installSpies();
await loadBundle();

async function attempt(tokenEndpoint: string, mode: 'webcall' | 'chat' = 'chat', sessionOptions?: object) {
  const el = await fixture<VoiceAgentElement>(
    html`<voice-agent agent-id="a1" mode=${mode} token-endpoint=${tokenEndpoint} .sessionOptions=${sessionOptions}></voice-agent>`,
  );
  const events = recordEvents(el);
  await el.start();
  await el.updateComplete;
  const errors = events.filter((e) => e.type === 'va-error').map((e) => e.detail);
  const statuses = events.filter((e) => e.type === 'va-status-change').map((e) => e.detail.status);
  return { el, events, errors, statuses };
}

let probes = 0;
/** A fault-server scenario behind the token endpoint, with a probe id of its own for this test. */
function fault(scenario: string): { endpoint: string; connections: () => Promise<{ scenario: string; framesBeforeSession: number; framesAfterSession: number }[]> } {
  const probe = `${scenario}-${++probes}-${Math.random().toString(36).slice(2)}`;
  return {
    endpoint: `/api/token/fault/${scenario}?probe=${probe}`,
    connections: () => serverCommand('fault-connections', { probe }),
  };
}

afterEach(async () => {
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  await expectAllReleased(spies);
});

describe('failure paths end to end', () => {
  it('a failing token endpoint: token-failed, no socket, the microphone released, a sentence for the user', async () => {
    const sockets = spies.sockets.length;
    const { el, errors, statuses, events } = await attempt('/api/token/http-500', 'webcall');
    expect(errors).to.deep.equal([{ code: 'token-failed', message: 'The token endpoint answered HTTP 500.', fatal: true }]);
    expect(statuses).to.deep.equal(['connecting', 'disconnecting', 'disconnected']);
    expect(spies.sockets.length).to.equal(sockets);
    expect(events.some((e) => e.type === 'va-disconnect')).to.equal(false);
    expect(part(el, 'error')!.textContent).to.contain('could not be set up right now');
    expect(part(el, 'error')!.getAttribute('role')).to.equal('alert');
    await expectAllReleased(spies);
  });

  it('an error status whose body still carries a token: token-failed, and that token opens nothing', async () => {
    const sockets = spies.sockets.length;
    const { el, errors } = await attempt('/api/token/http-401-with-token?probe=401-with-token', 'webcall');
    expect(errors.map((e) => [e.code, e.message])).to.deep.equal([['token-failed', 'The token endpoint answered HTTP 401.']]);
    expect(spies.sockets.length).to.equal(sockets);
    expect(await serverCommand('fault-connections', { probe: '401-with-token' })).to.deep.equal([]);
    expect(el.status).to.equal('disconnected');
  });

  it('sends no audio before session.created, even when the token answer already gives the rate', async () => {
    const scenario = fault('late-session');
    const { el, errors } = await attempt(scenario.endpoint, 'webcall');
    expect(errors).to.deep.equal([]);
    expect(el.status).to.equal('connected');
    await waitUntil(async () => (await scenario.connections())[0]?.framesAfterSession >= 10, 'the microphone streams once the session exists', { timeout: 5000 });
    const [connection] = await scenario.connections();
    expect(connection.framesBeforeSession, 'audio frames before session.created').to.equal(0);
  });

  for (const [kind, code] of [
    ['secret-key', 'config-invalid'],
    ['secret-key-nested', 'config-invalid'],
    ['not-json', 'token-failed'],
    ['no-token', 'token-failed'],
  ]) {
    it(`refuses an unusable token answer (${kind}) with ${code}, without opening a socket`, async () => {
      const sockets = spies.sockets.length;
      const { el, errors, events } = await attempt(`/api/token/${kind}`);
      expect(errors.map((e) => e.code)).to.deep.equal([code]);
      expect(spies.sockets.length).to.equal(sockets);
      expect(el.status).to.equal('disconnected');
      expect(JSON.stringify(events.map((e) => e.detail))).not.to.match(/sk_live/);
    });
  }

  it('a refused socket: socket-failed and disconnected', async () => {
    const { el, errors, statuses } = await attempt('/api/token/refused-socket', 'webcall');
    expect(errors.map((e) => [e.code, e.fatal])).to.deep.equal([['socket-failed', true]]);
    expect(statuses.at(-1)).to.equal('disconnected');
    expect(part(el, 'error')!.textContent).to.contain('could not be reached');
    await expectAllReleased(spies);
  });

  it('a fatal error frame then close 4000 before the session: server-error', async () => {
    const scenario = fault('error-4000');
    const { errors, statuses } = await attempt(scenario.endpoint);
    expect(await scenario.connections()).to.have.length(1);
    expect(errors.map((e) => [e.code, e.fatal])).to.deep.equal([['server-error', true]]);
    expect(errors[0].message).to.contain('401');
    expect(statuses).to.deep.equal(['connecting', 'disconnecting', 'disconnected']);
  });

  it('a socket closed before the session: socket-failed with the close code', async () => {
    const scenario = fault('close-before-session');
    const { errors } = await attempt(scenario.endpoint);
    expect(await scenario.connections()).to.have.length(1);
    expect(errors.map((e) => e.code)).to.deep.equal(['socket-failed']);
    expect(errors[0].message).to.contain('1011');
  });

  it('an agent that never announces the session: session-timeout', async () => {
    const scenario = fault('silent');
    const { errors } = await attempt(scenario.endpoint, 'chat', { sessionTimeoutMs: 300 });
    expect(await scenario.connections()).to.have.length(1);
    expect(errors.map((e) => e.code)).to.deep.equal(['session-timeout']);
  });

  it('a fatal error during the call (nested shape): server-error, then va-disconnect with reason error', async () => {
    const scenario = fault('fatal-after-start');
    const { el, events } = await attempt(scenario.endpoint);
    expect(await scenario.connections()).to.have.length(1);
    expect(el.status).to.equal('connected');
    const disconnected = nextEvent<CustomEvent>(el, 'va-disconnect');
    el.sendText('anything');
    expect((await disconnected).detail).to.deep.equal({ reason: 'error' });
    const errors = events.filter((e) => e.type === 'va-error').map((e) => e.detail);
    expect(errors.map((e) => [e.code, e.fatal])).to.deep.equal([['server-error', true]]);
    expect(errors[0].message).to.contain('agent crashed');
  });

  it('a dropped connection during the call, without reconnects: connection-lost', async () => {
    const scenario = fault('drop');
    const { el, events } = await attempt(scenario.endpoint, 'chat', { reconnect: false });
    expect(await scenario.connections()).to.have.length(1);
    const disconnected = nextEvent(el, 'va-disconnect');
    el.sendText('hello?');
    await disconnected;
    expect(events.filter((e) => e.type === 'va-error').map((e) => e.detail.code)).to.deep.equal(['connection-lost']);
    await el.updateComplete;
    expect(part(el, 'error')!.textContent).to.contain('connection to the agent was lost');
  });

  it('malformed frames are skipped and reported; the call goes on', async () => {
    const scenario = fault('malformed');
    const { el, events } = await attempt(scenario.endpoint);
    expect(await scenario.connections()).to.have.length(1);
    // The server sends everything at once, so it may all be handled before start() resolves.
    await waitUntil(() => events.some((e) => e.type === 'va-transcript' && e.detail.text === 'still here'), 'the good frame after the bad ones');
    expect(el.status).to.equal('connected');
    const errors = events.filter((e) => e.type === 'va-error').map((e) => e.detail);
    expect(errors.length).to.be.at.least(1);
    expect(errors.every((e) => !e.fatal)).to.equal(true);
    expect(errors.map((e) => e.code)).to.include('protocol-error');
    expect(el.transcript).to.deep.equal([{ role: 'assistant', text: 'still here', final: true }]);
    expect(part(el, 'error') === null, 'no error part').to.equal(true);
  });

  it('an agent that hangs up: va-disconnect with reason ended and no error', async () => {
    const scenario = fault('ended');
    const el = await fixture<VoiceAgentElement>(html`<voice-agent mode="chat" token-endpoint=${scenario.endpoint}></voice-agent>`);
    const events = recordEvents(el);
    const disconnected = nextEvent<CustomEvent>(el, 'va-disconnect');
    await el.start();
    expect((await disconnected).detail).to.deep.equal({ reason: 'ended' });
    expect(events.filter((e) => e.type === 'va-error')).to.deep.equal([]);
    expect(el.transcript.at(-1)).to.deep.equal({ role: 'assistant', text: 'Goodbye.', final: true });
    await el.updateComplete;
    expect(part(el, 'status')!.textContent).to.equal('Chat ended');
    expect(await scenario.connections()).to.have.length(1);
  });
});
