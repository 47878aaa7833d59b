/**
 * Reconnects and backpressure, one layer at a time: the policy (waits, which failures are retried,
 * the wait for the network), the microphone uplink, and VoiceSession restoring a dropped call over
 * fake sockets. The same behaviours end to end, against real sockets, are in e2e-reconnect.test.ts.
 */
import '../support/guards.js';
import { expect } from '@open-wc/testing';
import { VoiceAgentError } from '../../src/errors.js';
import { MicUplink } from '../../src/session/mic-uplink.js';
import type { SessionConfig, SessionEvent } from '../../src/session/ports.js';
import { DEFAULT_RECONNECT, mayRetry, reconnectDelay, reconnectPolicy, waitToRetry } from '../../src/session/reconnect.js';
import { VoiceSession } from '../../src/session/voice-session.js';
import { FakeAudio, fakeDeps, settle } from '../support/fakes.js';

const created = (n: number) => ({ type: 'session.created', session_id: `s${n}`, call_id: `CALL-${n}`, sample_rate: 24000, channels: 1 });
const QUICK = { tries: 3, minDelayMs: 0, maxDelayMs: 0 };

/** Runs pending timers and promise callbacks until `predicate` holds (fake sockets answer at once). */
async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !predicate(); i++) await settle();
  expect(predicate(), what).to.equal(true);
}

/** Makes `navigator.onLine` read `online` until the returned function restores it. */
function pretendOnline(online: boolean): () => void {
  Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => online });
  return () => delete (navigator as { onLine?: boolean }).onLine;
}

function setup(overrides: Partial<SessionConfig> = {}, failToken?: (n: number) => Error | undefined) {
  const deps = fakeDeps(new FakeAudio());
  const tokens: string[] = [];
  const session = new VoiceSession(
    {
      agentId: 'agent-1',
      mode: 'webcall',
      variables: {},
      serverUrl: 'wss://agent.test/connect',
      tokenProvider: async () => {
        const n = tokens.length + 1;
        tokens.push(`wct_${n}`);
        const failure = failToken?.(n);
        if (failure) throw failure;
        return { token: `wct_${n}` };
      },
      closeTimeoutMs: 50,
      reconnect: QUICK,
      ...overrides,
    },
    deps,
  );
  const events: SessionEvent[] = [];
  session.subscribe((event) => events.push(event));
  const of = <T extends SessionEvent['type']>(type: T) => events.filter((e): e is Extract<SessionEvent, { type: T }> => e.type === type);
  return {
    session,
    deps,
    audio: deps.audio,
    events,
    tokens,
    statuses: () => of('status').map((e) => e.status),
    errors: () => of('error').map((e) => e.error),
    attempts: () => of('reconnecting').map((e) => e.attempt),
    socket: () => deps.sockets[deps.sockets.length - 1]!,
    openSockets: () => deps.sockets.filter((s) => s.isOpen).length,
  };
}

async function connect(ctx: ReturnType<typeof setup>) {
  const started = ctx.session.start();
  await settle();
  ctx.socket().serverSend(created(1));
  await started;
  expect(ctx.session.snapshot.status).to.equal('connected');
}

describe('reconnect policy', () => {
  it('waits twice as long before each try, up to the ceiling, at a random point in its upper half', () => {
    const policy = reconnectPolicy();
    expect(policy).to.deep.equal({ tries: 4, minDelayMs: 500, maxDelayMs: 8000 });
    expect([1, 2, 3, 4, 5, 6].map((n) => reconnectDelay(policy, n, () => 1))).to.deep.equal([500, 1000, 2000, 4000, 8000, 8000]);
    expect([1, 2, 3, 4, 5, 6].map((n) => reconnectDelay(policy, n, () => 0))).to.deep.equal([250, 500, 1000, 2000, 4000, 4000]);
    expect(reconnectDelay(policy, 3, () => 0.5)).to.equal(1500);
  });

  it('takes partial settings, and the default for anything unusable', () => {
    expect(reconnectPolicy({ tries: 2 })).to.deep.equal({ ...DEFAULT_RECONNECT, tries: 2 });
    expect(reconnectPolicy({ tries: 0, minDelayMs: -1, maxDelayMs: Number.NaN })).to.deep.equal(DEFAULT_RECONNECT);
    expect(reconnectPolicy({ minDelayMs: 9000 })).to.deep.equal({ tries: 4, minDelayMs: 9000, maxDelayMs: 9000 });
  });

  it('retries the network and the agent server failing for now, never an answer that will not change', () => {
    const cases: [VoiceAgentError, boolean][] = [
      [new VoiceAgentError('socket-failed', 'refused (1006)'), true],
      [new VoiceAgentError('session-timeout', 'no session'), true],
      [new VoiceAgentError('connection-lost', 'lost'), true],
      [new VoiceAgentError('token-failed', 'timed out'), true],
      [new VoiceAgentError('token-failed', '502', { status: 502 }), true],
      [new VoiceAgentError('token-failed', '401', { status: 401 }), false],
      [new VoiceAgentError('token-failed', '429', { status: 429 }), false],
      [new VoiceAgentError('config-invalid', 'a key in the answer'), false],
      [new VoiceAgentError('server-error', 'error frame, 4000'), false],
      [new VoiceAgentError('mic-unavailable', 'unplugged'), false],
    ];
    for (const [error, retry] of cases) expect(mayRetry(error), `${error.code} ${error.message}`).to.equal(retry);
  });

  it('waits for the delay, then for the network while the browser is offline', async () => {
    const restore = pretendOnline(false);
    try {
      const changes: boolean[] = [];
      let done = false;
      const waiting = waitToRetry(0, new AbortController().signal, (offline) => changes.push(offline)).then(() => (done = true));
      await until(() => changes.length === 1, 'the wait reports the browser offline');
      await settle();
      expect(done, 'still waiting while offline').to.equal(false);
      restore();
      window.dispatchEvent(new Event('online'));
      await waiting;
      expect(changes).to.deep.equal([true, false]);
    } finally {
      restore();
    }
  });

  it('gives up waiting when aborted', async () => {
    const abort = new AbortController();
    const waiting = waitToRetry(60_000, abort.signal, () => {});
    abort.abort(new DOMException('stopped', 'AbortError'));
    const error = await waiting.then(() => undefined, (e: unknown) => e);
    expect((error as DOMException).name).to.equal('AbortError');
  });
});

describe('microphone uplink under backpressure', () => {
  function uplink(maxQueuedFrames = 3) {
    const socket = { bufferedAmount: 0, sent: [] as number[], send(frame: string | ArrayBuffer) {
      this.sent.push(Number(frame));
      return true;
    } };
    const slow: boolean[] = [];
    const link = new MicUplink({ maxBufferedBytes: 100, maxQueuedFrames, onSlow: (s) => slow.push(s) }, (pcm) => String(pcm[0]));
    const push = (n: number) => link.push(Int16Array.of(n), socket);
    return { link, socket, slow, push };
  }

  it('sends at once while the socket keeps up', () => {
    const { socket, push, slow, link } = uplink();
    for (let n = 1; n <= 5; n++) push(n);
    expect(socket.sent).to.deep.equal([1, 2, 3, 4, 5]);
    expect([slow, link.dropped, link.queued]).to.deep.equal([[], 0, 0]);
  });

  it('holds frames while the buffer is full, drops the oldest beyond the queue, and catches up in order', () => {
    const { socket, push, slow, link } = uplink(3);
    socket.bufferedAmount = 500;
    for (let n = 1; n <= 5; n++) push(n);
    expect(socket.sent).to.deep.equal([]);
    expect([link.dropped, link.queued]).to.deep.equal([2, 3]);
    expect(slow).to.deep.equal([true]);
    socket.bufferedAmount = 0;
    push(6);
    expect(socket.sent, 'the newest frames, oldest first').to.deep.equal([3, 4, 5, 6]);
    expect(slow).to.deep.equal([true, false]);
  });

  it('forgets what waits when its socket goes', () => {
    const { socket, push, link } = uplink();
    socket.bufferedAmount = 500;
    push(1);
    link.clear();
    socket.bufferedAmount = 0;
    push(2);
    expect(socket.sent).to.deep.equal([2]);
  });
});

/** Starts a call up to the agent's session beginning, its audio graph starting until `audioReady()`. */
async function startWithAudioPending(ctx: ReturnType<typeof setup>) {
  let audioReady!: () => void;
  ctx.audio.startGate = new Promise<void>((resolve) => (audioReady = resolve));
  const started = ctx.session.start();
  await until(() => ctx.deps.sockets.length === 1, 'a socket opens');
  ctx.socket().serverSend(created(1));
  await until(() => ctx.audio.log.includes('start:24000'), 'the audio graph starts');
  return { started, audioReady };
}

describe('VoiceSession reconnects', () => {
  it('restores a dropped call with a fresh token, the microphone open, one socket at a time, and a mark in the transcript', async () => {
    const ctx = setup();
    await connect(ctx);
    ctx.socket().serverSend({ type: 'transcript.delta', role: 'user', text: 'Hello' });
    ctx.socket().serverClose(1006);
    expect(ctx.session.snapshot.status).to.equal('reconnecting');
    expect(ctx.session.snapshot.transcript.at(-1), 'the turn in progress is settled').to.deep.equal({ role: 'user', text: 'Hello', final: true });
    await until(() => ctx.deps.sockets.length === 2, 'a second socket opens');
    expect(ctx.attempts()).to.deep.equal([1]);
    expect(ctx.socket().url).to.equal('wss://agent.test/connect?token=wct_2');
    expect(ctx.openSockets()).to.equal(1);
    ctx.socket().serverSend(created(2));
    await until(() => ctx.session.snapshot.status === 'connected', 'connected again');
    expect(ctx.statuses()).to.deep.equal(['connecting', 'connected', 'reconnecting', 'connected']);
    expect(ctx.events.filter((e) => e.type === 'reconnected')).to.deep.equal([
      { type: 'reconnected', info: { sessionId: 's2', callId: 'CALL-2', sampleRate: 24000 } },
    ]);
    expect(ctx.session.snapshot.info?.sessionId).to.equal('s2');
    expect(ctx.session.snapshot.transcript).to.deep.equal([
      { role: 'user', text: 'Hello', final: true },
      { role: 'system', text: '', final: true, mark: 'reconnected' },
    ]);
    expect(ctx.audio.log, 'the audio graph was built once and never closed').to.deep.equal(['mic', 'start:24000', 'interrupt']);
    expect(ctx.errors()).to.deep.equal([]);
    expect(ctx.events.some((e) => e.type === 'disconnect')).to.equal(false);
    ctx.audio.capture(new Int16Array(480));
    expect(ctx.socket().sentOfType('input_audio_buffer.append'), 'the microphone streams on the new socket').to.have.length(1);
    await ctx.session.stop();
    expect(ctx.events.at(-1)).to.deep.equal({ type: 'disconnect', reason: 'client_requested' });
  });

  it('restores a call whose connection dropped after the session began but before its audio had started', async () => {
    const ctx = setup();
    const { started, audioReady } = await startWithAudioPending(ctx);
    ctx.socket().serverClose(1006);
    expect(ctx.session.snapshot.status, 'still starting').to.equal('connecting');
    expect(ctx.openSockets(), 'the lost socket is let go').to.equal(0);
    audioReady();
    await started;
    expect(ctx.statuses().slice(0, 3)).to.deep.equal(['connecting', 'connected', 'reconnecting']);
    await until(() => ctx.deps.sockets.length === 2, 'a second socket opens');
    expect(ctx.socket().url).to.equal('wss://agent.test/connect?token=wct_2');
    ctx.socket().serverSend(created(2));
    await until(() => ctx.session.snapshot.status === 'connected', 'connected again');
    expect(ctx.statuses()).to.deep.equal(['connecting', 'connected', 'reconnecting', 'connected']);
    expect(ctx.events.filter((e) => e.type === 'connect' || e.type === 'reconnected').map((e) => e.type)).to.deep.equal(['connect', 'reconnected']);
    expect(ctx.errors()).to.deep.equal([]);
    ctx.audio.capture(new Int16Array(480));
    expect(ctx.socket().sentOfType('input_audio_buffer.append'), 'the microphone streams on the new socket').to.have.length(1);
    await ctx.session.stop();
  });

  it('ends a call whose agent closed it normally while its audio was starting, without a try', async () => {
    const ctx = setup();
    const { started, audioReady } = await startWithAudioPending(ctx);
    ctx.socket().serverClose(1000);
    audioReady();
    await started;
    await until(() => ctx.session.snapshot.status === 'disconnected', 'the call ends');
    expect(ctx.deps.sockets, 'no second socket').to.have.length(1);
    expect(ctx.attempts()).to.deep.equal([]);
  });

  it('sends no microphone audio while reconnecting, and sends text only once connected again', async () => {
    const ctx = setup({ reconnect: { tries: 1, minDelayMs: 60_000, maxDelayMs: 60_000 } });
    await connect(ctx);
    const first = ctx.socket();
    first.serverClose(1001);
    ctx.audio.capture(new Int16Array(480));
    expect(ctx.session.sendText('anyone?')).to.equal(false);
    expect(first.sentOfType('input_audio_buffer.append')).to.have.length(0);
    expect(ctx.deps.sockets).to.have.length(1);
    await ctx.session.stop();
    expect(ctx.statuses()).to.deep.equal(['connecting', 'connected', 'reconnecting', 'disconnecting', 'disconnected']);
    expect(ctx.events.at(-1)).to.deep.equal({ type: 'disconnect', reason: 'client_requested' });
    expect(ctx.audio.log).to.include('close');
  });

  it('ends with connection-lost once every try failed, each with a fresh token', async () => {
    const ctx = setup();
    await connect(ctx);
    ctx.deps.refuse = new VoiceAgentError('socket-failed', 'The agent server refused the connection (close code 1006).');
    ctx.socket().serverClose(1011, 'restarting');
    await until(() => ctx.session.snapshot.status === 'disconnected', 'the call ends');
    expect(ctx.attempts()).to.deep.equal([1, 2, 3]);
    expect(ctx.tokens).to.deep.equal(['wct_1', 'wct_2', 'wct_3', 'wct_4']);
    expect(ctx.errors().map((e) => [e.code, e.fatal, e.closeCode])).to.deep.equal([['connection-lost', true, 1011]]);
    expect(ctx.errors()[0]!.message).to.equal('The connection to the agent was lost (code 1011), and 3 tries to restore it failed.');
    expect(ctx.events.at(-1)).to.deep.equal({ type: 'disconnect', reason: 'error' });
    expect(ctx.audio.log).to.include('close');
  });

  it('counts a socket that opens but never starts a session as a try', async () => {
    const ctx = setup({ sessionTimeoutMs: 20, reconnect: { tries: 2, minDelayMs: 0, maxDelayMs: 0 } });
    await connect(ctx);
    ctx.socket().serverClose(1006);
    await until(() => ctx.session.snapshot.status === 'disconnected', 'the call ends');
    expect(ctx.attempts()).to.deep.equal([1, 2]);
    expect(ctx.deps.sockets.map((s) => s.closedWith)).to.deep.equal([undefined, 1000, 1000]);
    expect(ctx.errors().map((e) => e.code)).to.deep.equal(['connection-lost']);
  });

  it('stops at once when the token endpoint answers 4xx, and goes on after a 5xx', async () => {
    const ctx = setup({}, (n) =>
      n === 2 ? new VoiceAgentError('token-failed', 'The token endpoint answered HTTP 503.', { status: 503 }) : n === 3 ? new VoiceAgentError('token-failed', 'The token endpoint answered HTTP 403.', { status: 403 }) : undefined,
    );
    await connect(ctx);
    ctx.socket().serverClose(1006);
    await until(() => ctx.session.snapshot.status === 'disconnected', 'the call ends');
    expect(ctx.attempts()).to.deep.equal([1, 2]);
    expect(ctx.deps.sockets).to.have.length(1);
    expect(ctx.errors().map((e) => [e.code, e.status])).to.deep.equal([['token-failed', 403]]);
  });

  it('never retries a normal close, the agent ending the call, a 4000 close, or with reconnects off', async () => {
    const endings: [string, Partial<SessionConfig>, (ctx: ReturnType<typeof setup>) => void, string[], string][] = [
      ['close 1000', {}, (ctx) => ctx.socket().serverClose(1000), [], 'websocket_closed'],
      ['session.closed', {}, (ctx) => (ctx.socket().serverSend({ type: 'session.closed', reason: 'ended' }), ctx.socket().serverClose(1006)), [], 'ended'],
      ['close 4000', {}, (ctx) => ctx.socket().serverClose(4000), ['server-error'], 'error'],
      ['reconnect off', { reconnect: false }, (ctx) => ctx.socket().serverClose(1006), ['connection-lost'], 'error'],
    ];
    for (const [what, config, end, errors, reason] of endings) {
      const ctx = setup(config);
      await connect(ctx);
      end(ctx);
      await until(() => ctx.session.snapshot.status === 'disconnected', `${what}: the call ends`);
      expect(ctx.statuses(), what).not.to.include('reconnecting');
      expect(ctx.deps.sockets, what).to.have.length(1);
      expect(ctx.errors().map((e) => e.code), what).to.deep.equal(errors);
      expect(ctx.events.at(-1), what).to.deep.equal({ type: 'disconnect', reason });
    }
  });

  it('ends with the error when the new session is refused by an error frame', async () => {
    const ctx = setup();
    await connect(ctx);
    ctx.socket().serverClose(1006);
    await until(() => ctx.deps.sockets.length === 2, 'a second socket opens');
    ctx.socket().serverSend({ type: 'error', code: '401', message: 'Invalid or expired token' });
    await until(() => ctx.session.snapshot.status === 'disconnected', 'the call ends');
    expect(ctx.attempts()).to.deep.equal([1]);
    expect(ctx.errors().map((e) => e.code)).to.deep.equal(['server-error']);
  });

  it('pauses the tries while the browser is offline and resumes them online', async () => {
    const ctx = setup();
    await connect(ctx);
    const restore = pretendOnline(false);
    try {
      ctx.socket().serverClose(1006);
      await until(() => ctx.session.snapshot.offline === true, 'the session knows it waits for the network');
      await settle();
      expect(ctx.deps.sockets, 'no try while offline').to.have.length(1);
      expect(ctx.attempts()).to.deep.equal([]);
      restore();
      window.dispatchEvent(new Event('online'));
      await until(() => ctx.deps.sockets.length === 2, 'the first try once online');
      expect(ctx.session.snapshot.offline).to.equal(false);
      ctx.socket().serverSend(created(2));
      await until(() => ctx.session.snapshot.status === 'connected', 'connected again');
      expect(ctx.session.snapshot.offline).to.equal(undefined);
    } finally {
      restore();
      await ctx.session.stop();
    }
  });

  it('abandons tool calls of the lost session and declares the tools again in the new one', async () => {
    const tools = { lookup: { description: 'Looks up', parameters: { type: 'object', properties: {} }, handler: () => new Promise<string>(() => {}) } };
    const ctx = setup({ tools });
    const started = ctx.session.start();
    await until(() => ctx.deps.sockets.length === 1, 'the socket opens');
    ctx.socket().serverSend(created(1));
    await started;
    const declared = (socket: (typeof ctx.deps.sockets)[number]) => socket.sent.filter((f) => JSON.stringify(f).includes('"lookup"')).length;
    expect(declared(ctx.socket()), 'declared in the first session').to.equal(1);
    ctx.socket().serverSend({ type: 'function_call', call_id: 'c1', name: 'lookup', arguments: {} });
    await until(() => ctx.events.some((e) => e.type === 'tool-call'), 'the tool runs');
    ctx.socket().serverClose(1006);
    await until(() => ctx.events.some((e) => e.type === 'tool-result'), 'the running call is settled');
    expect(ctx.events.filter((e) => e.type === 'tool-result').map((e) => (e as { result: { error?: string } }).result.error)).to.deep.equal(['ended']);
    await until(() => ctx.deps.sockets.length === 2, 'a second socket opens');
    ctx.socket().serverSend(created(2));
    await until(() => declared(ctx.socket()) === 1, 'declared again in the new session');
    await ctx.session.stop();
  });

  it('reports network-slow once a call when the oldest microphone audio is dropped, and shows when it recovers', async () => {
    const ctx = setup({ maxBufferedBytes: 1000 });
    await connect(ctx);
    ctx.socket().bufferedAmount = 1_000_000;
    for (let i = 0; i < 12; i++) ctx.audio.capture(new Int16Array(480));
    expect(ctx.socket().sentOfType('input_audio_buffer.append')).to.have.length(0);
    expect(ctx.session.framesDropped).to.equal(2);
    expect(ctx.session.snapshot.networkSlow).to.equal(true);
    ctx.socket().bufferedAmount = 0;
    ctx.audio.capture(new Int16Array(480));
    expect(ctx.socket().sentOfType('input_audio_buffer.append'), 'the 10 that waited, then the new one').to.have.length(11);
    expect(ctx.session.snapshot.networkSlow).to.equal(false);
    ctx.socket().bufferedAmount = 1_000_000;
    for (let i = 0; i < 12; i++) ctx.audio.capture(new Int16Array(480));
    const slow = ctx.errors().filter((e) => e.code === 'network-slow');
    expect(slow.map((e) => e.fatal), 'one report a call').to.deep.equal([false]);
    expect(slow[0]!.message).to.contain('too slow');
    expect(ctx.session.snapshot.status).to.equal('connected');
    expect(ctx.events.filter((e) => e.type === 'network-slow').map((e) => (e as { slow: boolean }).slow)).to.deep.equal([true, false, true]);
    expect(ctx.socket().sentOfType('session.close'), 'control frames are never held back').to.have.length(0);
    await ctx.session.stop();
    expect(ctx.socket().sentOfType('session.close')).to.have.length(1);
  });
});
