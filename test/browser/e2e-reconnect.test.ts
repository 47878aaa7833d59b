/**
 * Riding out a bad network, end to end: the real local agent cuts, refuses or stops reading
 * connections on cue (its injected faults), behind the real token handler. A dropped call comes back
 * with a fresh token and a new session while the microphone and the AudioContext stay open; when it
 * cannot, the call ends with `connection-lost` and a retry works; a socket the server stops reading
 * sheds the oldest microphone audio and says so once.
 */
import { expect, fixture, html } from '@open-wc/testing';
import type { LocalAgentFault, SessionStats } from '../../src/local-agent/index.js';
import { ENGINE, expectAllReleased, installSpies, loadBundle, nextEvent, part, recordEvents, serverCommand, type VoiceAgentElement, waitUntil } from '../support/harness.js';

const spies = installSpies();
await loadBundle();

/** Quick tries, so that a test waits milliseconds rather than seconds between them. */
const QUICK = { reconnect: { tries: 3, minDelayMs: 20, maxDelayMs: 80 } };

let agents = 0;
/** A fresh agent id with `faults` queued for its first connections. */
async function agentWith(faults: LocalAgentFault[]): Promise<string> {
  const agentId = `reconnect-${++agents}-${Math.random().toString(36).slice(2, 8)}`;
  await serverCommand('inject-faults', { agentId, faults });
  return agentId;
}

/**
 * A widget for `agentId`. In a voice call the agent does not greet, so that its first reply is the
 * answer to what the test says or types: a `midReply` drop comes when the test asks for it.
 */
async function call(agentId: string, mode: 'webcall' | 'chat', options: object = QUICK, reconnect = 'auto') {
  const socketsBefore = spies.sockets.length;
  const el = await fixture<VoiceAgentElement>(
    html`<voice-agent
      layout="inline"
      agent-id=${agentId}
      mode=${mode}
      reconnect=${reconnect}
      variables='{"greeting":""}'
      token-endpoint="/api/voice-token"
      .sessionOptions=${options}
    ></voice-agent>`,
  );
  const events = recordEvents(el);
  const of = (type: string) => events.filter((e) => e.type === type).map((e) => e.detail);
  return {
    el,
    events,
    of,
    sessions: () => serverCommand<SessionStats[]>('agent-sessions', { agentId }),
    /** The sockets this widget opened. */
    sockets: () => spies.sockets.slice(socketsBefore),
  };
}

/** The most sockets open at once from now on. */
function watchOpenSockets(): () => number {
  let most = 0;
  const timer = setInterval(() => (most = Math.max(most, spies.sockets.filter((s) => s.readyState === WebSocket.OPEN).length)), 5);
  return () => (clearInterval(timer), most);
}

afterEach(async () => {
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  await expectAllReleased(spies);
});

describe('reconnects end to end', () => {
  it('a voice call cut mid-reply comes back: fresh token, new session, the same microphone and context, a mark in the transcript', async () => {
    const agentId = await agentWith([{ type: 'drop', midReply: true }]);
    const { el, of, sessions, sockets } = await call(agentId, 'webcall');
    const contexts = spies.contexts.length;
    const streams = spies.streams.length;
    const mostOpen = watchOpenSockets();
    // Heard on the document: the events bubble out of the element and its shadow root.
    const reconnecting = nextEvent<CustomEvent>(document, 'va-reconnecting');
    const reconnected = nextEvent<CustomEvent>(document, 'va-reconnected');
    await el.start();
    const firstInfo = of('va-connect')[0];
    // The agent's spoken answer to this is cut as it starts.
    expect(el.sendText('hello')).to.equal(true);
    const { bubbles, composed } = await reconnecting;
    expect([bubbles, composed]).to.deep.equal([true, true]);
    await el.updateComplete;
    expect(el.status).to.equal('reconnecting');
    expect(el.matches(':state(reconnecting)')).to.equal(true);
    expect(part(el, 'status')!.textContent).to.equal('Reconnecting…');
    expect(part(el, 'call-button')!.textContent!.trim()).to.equal('End call');
    const { detail } = await reconnected;
    expect(el.status).to.equal('connected');
    expect(detail.sessionId).not.to.equal(firstInfo.sessionId);
    const [first, second] = await sessions();
    expect([first?.sessionId, second?.sessionId]).to.deep.equal([firstInfo.sessionId, detail.sessionId]);
    expect(first!.audioSentMs, 'the reply had begun').to.be.above(0);
    expect(second!.callId).to.equal(detail.callId);
    expect(of('va-reconnecting')).to.deep.equal([{ attempt: 1 }]);
    expect(of('va-status-change').map((d) => d.status)).to.deep.equal(['connecting', 'connected', 'reconnecting', 'connected']);
    expect(of('va-error')).to.deep.equal([]);
    expect(of('va-disconnect')).to.deep.equal([]);
    expect(sockets()).to.have.length(2);
    expect(mostOpen(), 'never more than one socket open').to.equal(1);
    expect(spies.contexts.length - contexts, 'one AudioContext').to.equal(1);
    expect(spies.contexts.at(-1)!.state, 'still running').to.equal('running');
    expect(spies.streams.length - streams, 'the microphone was opened once').to.equal(1);
    expect(spies.streams.at(-1)!.getAudioTracks()[0]!.readyState, 'and is still live').to.equal('live');
    // The new session hears the microphone and answers.
    await waitUntil(async () => ((await sessions())[1]?.appendFrames ?? 0) > 10, 'microphone audio reaches the new session', { timeout: 5000 });
    await el.updateComplete;
    const mark = part(el, 'transcript-mark');
    expect(mark?.textContent?.trim()).to.equal('Reconnected');
    expect(el.transcript.filter((entry) => entry.role === 'system')).to.deep.equal([{ role: 'system', text: '', final: true, mark: 'reconnected' }]);
    await el.stop();
    expect(of('va-disconnect')).to.deep.equal([{ reason: 'client_requested' }]);
  });

  it('a chat cut after its reply comes back, and the conversation goes on in the new session', async () => {
    const agentId = await agentWith([{ type: 'drop', midReply: true, closeCode: 1011 }]);
    const { el, of, sessions } = await call(agentId, 'chat');
    await el.start();
    const reconnected = nextEvent(el, 'va-reconnected');
    expect(el.sendText('first')).to.equal(true);
    await reconnected;
    const replied = nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.role === 'assistant' && e.detail.final && e.detail.text.includes('second'));
    expect(el.sendText('second')).to.equal(true);
    await replied;
    const [, second] = await sessions();
    expect(second!.textInputs).to.deep.equal(['second']);
    expect(el.transcript.map((e) => [e.role, e.text])).to.deep.equal([
      ['user', 'first'],
      ['assistant', 'You'],
      ['system', ''],
      ['user', 'second'],
      ['assistant', 'You wrote: second'],
    ]);
    expect(of('va-error')).to.deep.equal([]);
  });

  it('when every try fails (refused upgrades, a silent server): connection-lost, everything closed, and a retry works', async () => {
    const agentId = await agentWith([
      { type: 'drop', midReply: true, closeCode: 1001 },
      { type: 'refuse', status: 503 },
      { type: 'refuse', status: 401 },
      { type: 'silent' },
    ]);
    const { el, of, sessions, sockets } = await call(agentId, 'webcall', { ...QUICK, sessionTimeoutMs: 300 });
    const disconnected = nextEvent(el, 'va-disconnect');
    await el.start();
    el.sendText('hello');
    await disconnected;
    expect(of('va-reconnecting')).to.deep.equal([{ attempt: 1 }, { attempt: 2 }, { attempt: 3 }]);
    expect(of('va-reconnected')).to.deep.equal([]);
    const errors = of('va-error');
    expect(errors.map((e) => [e.code, e.fatal])).to.deep.equal([['connection-lost', true]]);
    expect(errors[0].message).to.equal('The connection to the agent was lost (code 1001), and 3 tries to restore it failed.');
    await el.updateComplete;
    expect(part(el, 'error')!.textContent).to.contain('connection to the agent was lost');
    expect(sockets()).to.have.length(4);
    await expectAllReleased(spies);
    // The faults are used up: the retry is a healthy call.
    part(el, 'retry-button')!.click();
    await waitUntil(() => el.status === 'connected', 'the retry connects', { timeout: 10_000 });
    expect((await sessions()).length, 'sessions: the first call and the retry').to.equal(2);
  });

  it('a token endpoint that hands out the same token again: the agent refuses it, and the tries run out', async () => {
    const probe = `reuse-${Math.random().toString(36).slice(2)}`;
    const agentId = `reuse-${probe}`;
    await serverCommand('inject-faults', { agentId, faults: [{ type: 'drop', afterMs: 100 }] });
    const socketsBefore = spies.sockets.length;
    const el = await fixture<VoiceAgentElement>(
      html`<voice-agent layout="inline" mode="chat" token-endpoint=${`/api/token/reuse?probe=${probe}&agent=${agentId}`} .sessionOptions=${QUICK}></voice-agent>`,
    );
    const events = recordEvents(el);
    const disconnected = nextEvent(el, 'va-disconnect');
    await el.start();
    expect(el.status).to.equal('connected');
    await disconnected;
    expect(events.filter((e) => e.type === 'va-reconnecting')).to.have.length(3);
    expect(spies.sockets.length - socketsBefore, 'each try opened a socket, refused at the upgrade').to.equal(4);
    expect(await serverCommand<SessionStats[]>('agent-sessions', { agentId }), 'one session: the token worked once').to.have.length(1);
    expect(events.filter((e) => e.type === 'va-error').map((e) => e.detail.code)).to.deep.equal(['connection-lost']);
  });

  it('never retries when the agent ends the session, whatever the code after it', async () => {
    const agentId = await agentWith([{ type: 'end', reason: 'max_duration_reached', afterMs: 50 }]);
    const { el, of, sockets } = await call(agentId, 'chat');
    const disconnected = nextEvent<CustomEvent>(el, 'va-disconnect');
    await el.start();
    expect((await disconnected).detail).to.deep.equal({ reason: 'max_duration_reached' });
    expect(of('va-reconnecting')).to.deep.equal([]);
    expect(of('va-error')).to.deep.equal([]);
    expect(sockets()).to.have.length(1);
  });

  it('with reconnect="off" a drop ends the call with connection-lost at once', async () => {
    const agentId = await agentWith([{ type: 'drop', afterMs: 50 }]);
    const { el, of } = await call(agentId, 'chat', QUICK, 'off');
    const disconnected = nextEvent(el, 'va-disconnect');
    await el.start();
    await disconnected;
    expect(of('va-status-change').map((d) => d.status)).not.to.include('reconnecting');
    expect(of('va-error').map((e) => [e.code, e.message])).to.deep.equal([['connection-lost', 'The connection to the agent was lost (code 1006).']]);
  });

  it('a drop while the audio still starts (its worklets a slow download away): the call begins, then comes back', async () => {
    const agentId = await agentWith([{ type: 'drop', afterMs: 50 }]);
    const { el, of, sessions, sockets } = await call(agentId, 'webcall');
    // The worklets take 3 s to arrive: the agent's session begins, and drops, long before the audio can start.
    el.workletBaseUrl = '/slow-worklets/3000/';
    const reconnected = nextEvent<CustomEvent>(el, 'va-reconnected');
    const failed = nextEvent<CustomEvent>(el, 'va-error');
    await el.start();
    const outcome = await Promise.race([reconnected, failed]);
    expect(outcome.type === 'va-error' ? outcome.detail : outcome.type).to.equal('va-reconnected');
    const { detail } = outcome;
    expect(of('va-error')).to.deep.equal([]);
    expect(of('va-status-change').map((d) => d.status)).to.deep.equal(['connecting', 'connected', 'reconnecting', 'connected']);
    expect(of('va-reconnecting')).to.deep.equal([{ attempt: 1 }]);
    expect(sockets()).to.have.length(2);
    const [first, second] = await sessions();
    expect(first!.audioSentMs + first!.appendFrames, 'the first session dropped before any audio flowed').to.equal(0);
    expect(second!.sessionId).to.equal(detail.sessionId);
    await waitUntil(async () => ((await sessions())[1]?.appendFrames ?? 0) > 10, 'microphone audio reaches the new session', { timeout: 5000 });
  });

  it('waits while the browser is offline, says so, and comes back once it is online', async () => {
    const agentId = await agentWith([{ type: 'drop', afterMs: 100 }]);
    const { el, of, sockets } = await call(agentId, 'chat');
    Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => false });
    try {
      await el.start();
      window.dispatchEvent(new Event('offline'));
      await waitUntil(async () => (await el.updateComplete, part(el, 'status')!.textContent === 'Offline. Waiting for the network…'), 'the widget says it waits for the network');
      expect(el.status).to.equal('reconnecting');
      expect(sockets(), 'no try while offline').to.have.length(1);
      expect(of('va-reconnecting')).to.deep.equal([]);
    } finally {
      delete (navigator as { onLine?: boolean }).onLine;
    }
    const reconnected = nextEvent(el, 'va-reconnected');
    window.dispatchEvent(new Event('online'));
    await reconnected;
    expect(of('va-reconnecting')).to.deep.equal([{ attempt: 1 }]);
    expect(el.status).to.equal('connected');
  });

  it('a server that stops reading: the oldest microphone audio is dropped, network-slow is said once, and it clears', async () => {
    // The agent reads again 6 s after the session starts: well after a busy machine's start of the call.
    const agentId = await agentWith([{ type: 'stop-reading', resumeAfterMs: 6000 }]);
    const { el, of } = await call(agentId, 'webcall', { maxBufferedBytes: 64 * 1024 });
    const slow = nextEvent<CustomEvent>(el, 'va-error', (e) => e.detail.code === 'network-slow');
    await el.start();
    expect(el.status).to.equal('connected');
    // Loopback takes megabytes into the kernel's buffers before a browser's bufferedAmount grows (a
    // slow real link takes far less). Standing in for them: 6 MB of protocol no-ops, sent on the
    // call's own socket at once, which the browser must hold while the agent reads nothing.
    const socket = spies.sockets.at(-1)!;
    const padding = 'x'.repeat(100_000);
    for (let i = 0; i < 60; i++) socket.send(JSON.stringify({ type: 'input_audio_buffer.commit', padding }));
    if (ENGINE === 'webkit') {
      // WebKit hands what a page sends to its network process at once: bufferedAmount falls to 0 while
      // the agent reads nothing, so a page cannot see backpressure there, and nothing is dropped.
      await waitUntil(() => socket.bufferedAmount === 0, 'WebKit reports the 6 MB as sent', { timeout: 3000 });
      expect((await serverCommand<SessionStats[]>('agent-sessions', { agentId }))[0]!.appendFrames, 'while the agent read nothing').to.equal(0);
      expect(of('va-error')).to.deep.equal([]);
      // Once the agent reads again, the microphone's audio reaches it: none was held back.
      await waitUntil(async () => (await serverCommand<SessionStats[]>('agent-sessions', { agentId }))[0]!.appendFrames > 0, 'the agent hears the microphone', { timeout: 10_000 });
      return;
    }
    const { detail } = await slow;
    expect(detail.fatal).to.equal(false);
    expect(detail.message).to.contain('too slow');
    await el.updateComplete;
    expect(part(el, 'network-note')!.textContent).to.equal('Your connection is slow. The agent may miss some of what you say.');
    // The agent reads again: what waited goes out, and the note goes away.
    await waitUntil(async () => (await el.updateComplete, part(el, 'network-note') === null), 'the note clears once the socket catches up', { timeout: 15_000 });
    expect(el.status).to.equal('connected');
    expect(of('va-error').map((e) => e.code), 'reported once').to.deep.equal(['network-slow']);
    const before = (await serverCommand<SessionStats[]>('agent-sessions', { agentId }))[0]!.appendFrames;
    await waitUntil(async () => (await serverCommand<SessionStats[]>('agent-sessions', { agentId }))[0]!.appendFrames > before + 10, 'the microphone streams again');
  });
});
