import '../support/guards.js';
import { expect } from '@open-wc/testing';
import { VoiceAgentError } from '../../src/errors.js';
import type { SessionEvent, SessionConfig } from '../../src/session/ports.js';
import { MAX_ENTRY_TEXT_LENGTH } from '../../src/session/transcript-log.js';
import { MAX_WAITING_CAPTIONS, VoiceSession } from '../../src/session/voice-session.js';
import { FakeAudio, fakeDeps, settle } from '../support/fakes.js';

const created = { type: 'session.created', session_id: 's1', call_id: 'CALL-1', sample_rate: 24000, channels: 1 };

function setup(overrides: Partial<SessionConfig> = {}, audio = new FakeAudio()) {
  const deps = fakeDeps(audio);
  const tokens: string[] = [];
  const session = new VoiceSession(
    {
      agentId: 'agent-1',
      mode: 'webcall',
      variables: {},
      serverUrl: 'wss://agent.test/connect',
      tokenProvider: async () => {
        const token = `wct_${tokens.length + 1}`;
        tokens.push(token);
        return { token };
      },
      closeTimeoutMs: 50,
      ...overrides,
    },
    deps,
  );
  const events: SessionEvent[] = [];
  session.subscribe((event) => events.push(event));
  const statuses = () => events.flatMap((e) => (e.type === 'status' ? [e.status] : []));
  const errors = () => events.flatMap((e) => (e.type === 'error' ? [e.error] : []));
  return { session, deps, audio, events, statuses, errors, tokens, socket: () => deps.sockets[deps.sockets.length - 1] };
}

async function connect(ctx: ReturnType<typeof setup>) {
  const started = ctx.session.start();
  await settle();
  ctx.socket().serverSend(created);
  await started;
  expect(ctx.session.snapshot.status).to.equal('connected');
}

describe('VoiceSession', () => {
  it('opens the microphone before fetching the token, then streams once the session exists', async () => {
    const ctx = setup();
    await connect(ctx);
    expect(ctx.statuses()).to.deep.equal(['connecting', 'connected']);
    expect(ctx.audio.log).to.deep.equal(['mic', 'start:24000']);
    expect(ctx.socket().url).to.equal('wss://agent.test/connect?token=wct_1');
    expect(ctx.events.find((e) => e.type === 'connect')).to.deep.equal({
      type: 'connect',
      info: { sessionId: 's1', callId: 'CALL-1', sampleRate: 24000 },
    });
    ctx.audio.capture(new Int16Array(480));
    expect(ctx.socket().sentOfType('input_audio_buffer.append')).to.have.length(1);
  });

  it('asks the token endpoint for the agent, mode and variables, leaving out an empty agent id', async () => {
    const requests: unknown[] = [];
    const tokenProvider: SessionConfig['tokenProvider'] = async (request) => {
      requests.push(request);
      return { token: 'wct_x' };
    };
    const named = setup({ tokenProvider, variables: { plan: 'pro' } });
    await connect(named);
    const unnamed = setup({ tokenProvider, agentId: '', mode: 'chat' });
    await connect(unnamed);
    expect(requests).to.deep.equal([
      { agent_id: 'agent-1', mode: 'webcall', variables: { plan: 'pro' } },
      { mode: 'chat', variables: {} },
    ]);
  });

  it('uses the rate the server announces for the audio graph', async () => {
    const ctx = setup();
    const started = ctx.session.start();
    await settle();
    ctx.socket().serverSend({ ...created, sample_rate: 16000 });
    await started;
    expect(ctx.audio.log).to.include('start:16000');
  });

  it('fetches a fresh token for every connection', async () => {
    const ctx = setup();
    await connect(ctx);
    await ctx.session.stop();
    await connect(ctx);
    expect(ctx.tokens).to.deep.equal(['wct_1', 'wct_2']);
  });

  it('is idempotent: a second start while connecting opens nothing more', async () => {
    const ctx = setup();
    const a = ctx.session.start();
    const b = ctx.session.start();
    expect(a).to.equal(b);
    await settle();
    ctx.socket().serverSend(created);
    await a;
    expect(ctx.deps.sockets).to.have.length(1);
  });

  it('settles a turn still in progress when the call ends', async () => {
    const ctx = setup();
    await connect(ctx);
    ctx.socket().serverSend({ type: 'transcript.delta', role: 'user', text: 'I was saying' });
    await ctx.session.stop();
    expect(ctx.session.snapshot.transcript).to.deep.equal([{ role: 'user', text: 'I was saying', final: true }]);
    const last = ctx.events.filter((e) => e.type === 'transcript').at(-1);
    expect(last).to.deep.equal({ type: 'transcript', entry: { role: 'user', text: 'I was saying', final: true } });
  });

  it('replaces the live entry with each cumulative delta and settles it with the final text', async () => {
    const ctx = setup();
    await connect(ctx);
    const say = (type: string, role: string, text: string) => ctx.socket().serverSend({ type, role, text });
    say('transcript.delta', 'assistant', 'Hello');
    say('transcript.delta', 'assistant', 'Hello there, how');
    say('transcript.delta', 'assistant', 'Hello there, how'); // a repeat changes nothing
    say('transcript.delta', 'user', 'I want');
    say('transcript', 'agent', 'Hello there.'); // shorter after an interruption; `agent` = assistant
    say('transcript', 'user', 'I want pizza.');
    expect(ctx.session.snapshot.transcript).to.deep.equal([
      { role: 'assistant', text: 'Hello there.', final: true },
      { role: 'user', text: 'I want pizza.', final: true },
    ]);
    expect(ctx.events.filter((e) => e.type === 'transcript')).to.have.length(5);
    say('transcript.delta', 'assistant', 'Next');
    ctx.audio.reachMarks();
    expect(ctx.session.snapshot.transcript).to.have.length(3);
  });

  it("shows the agent's words as the player reaches them, and all of them on a barge-in", async () => {
    const ctx = setup();
    await connect(ctx);
    const say = (text: string) => ctx.socket().serverSend({ type: 'transcript.delta', role: 'assistant', text });
    const shown = () => ctx.session.snapshot.transcript.map((e) => e.text);
    ctx.socket().serverSend({ type: 'output_audio.delta', audio: btoa('\u0001\u0000') });
    say('One');
    say('One two');
    say('One two three');
    expect(shown(), 'sent ahead of the sound, nothing shows yet').to.deep.equal([]);
    ctx.audio.reachMarks(1);
    expect(shown()).to.deep.equal(['One']);
    ctx.audio.reachMarks(1);
    expect(shown()).to.deep.equal(['One two']);
    ctx.socket().serverSend({ type: 'interruption' });
    expect(shown(), 'a barge-in shows what was waiting').to.deep.equal(['One two three']);
    expect(ctx.audio.marks).to.have.length(0);
    // Nothing is left to hear after a barge-in: the agent's cut transcript shows at once.
    ctx.socket().serverSend({ type: 'transcript', role: 'assistant', text: 'One two.' });
    expect(shown()).to.deep.equal(['One two.']);
    expect(ctx.audio.marks).to.have.length(0);
  });

  it('holds back at most 200 captions, each cut to the entry limit: beyond, the oldest shows early', async () => {
    const ctx = setup();
    await connect(ctx);
    expect(MAX_WAITING_CAPTIONS).to.equal(200);
    ctx.socket().serverSend({ type: 'output_audio.delta', audio: btoa('\u0001\u0000') });
    const huge = 'w'.repeat(MAX_ENTRY_TEXT_LENGTH + 1000);
    for (let i = 1; i <= MAX_WAITING_CAPTIONS + 50; i++) ctx.socket().serverSend({ type: 'transcript.delta', role: 'assistant', text: `${i} ${huge}` });
    const waiting = (ctx.session as unknown as { _captions: { text: string }[] })._captions;
    expect(waiting).to.have.length(MAX_WAITING_CAPTIONS);
    expect(waiting.every((caption) => caption.text.length === MAX_ENTRY_TEXT_LENGTH)).to.equal(true);
    expect(ctx.audio.marks, 'one mark per caption waiting').to.have.length(MAX_WAITING_CAPTIONS);
    const shown = () => ctx.session.snapshot.transcript.map((e) => e.text.split(' ')[0]);
    expect(shown(), 'the 50 oldest showed early, each in turn').to.deep.equal(['50']);
    ctx.audio.reachMarks(1);
    expect(shown()).to.deep.equal(['51']);
    ctx.audio.reachMarks();
    expect(shown()).to.deep.equal([String(MAX_WAITING_CAPTIONS + 50)]);
    expect(ctx.session.snapshot.transcript[0].text).to.have.length(MAX_ENTRY_TEXT_LENGTH);
  });

  it('keeps the agent before the user: a user turn shows the words still waiting first', async () => {
    const ctx = setup();
    await connect(ctx);
    ctx.socket().serverSend({ type: 'transcript.delta', role: 'assistant', text: 'Let me check' });
    ctx.socket().serverSend({ type: 'transcript.delta', role: 'user', text: 'Wait' });
    expect(ctx.session.snapshot.transcript.map((e) => e.role)).to.deep.equal(['assistant', 'user']);
  });

  it('speaks when the player is audible, through underruns, until the reply has played out', async () => {
    const ctx = setup();
    await connect(ctx);
    const speaking = () => ctx.session.snapshot.speaking;
    ctx.socket().serverSend({ type: 'agent_start_talking' });
    expect(speaking(), "the server's event runs ahead of the sound").to.equal(false);
    ctx.audio.playback({ type: 'playing', playing: true });
    expect(speaking()).to.equal(true);
    ctx.audio.playback({ type: 'playing', playing: false });
    expect(speaking(), 'an underrun is not the end of the reply').to.equal(true);
    ctx.socket().serverSend({ type: 'agent_stop_talking' });
    expect(ctx.audio.log, "the server's stop completes the reply's audio").to.include('end-reply');
    expect(speaking(), 'queued audio is still playing').to.equal(true);
    ctx.audio.playback({ type: 'reply', playedMs: 1234, interrupted: false });
    expect(speaking()).to.equal(false);
    expect(ctx.events.filter((e) => e.type === 'reply')).to.deep.equal([{ type: 'reply', playedMs: 1234, interrupted: false }]);
  });

  it('follows the server for speaking in a text chat, where nothing plays', async () => {
    const ctx = setup({ mode: 'chat' });
    await connect(ctx);
    ctx.socket().serverSend({ type: 'agent_start_talking' });
    expect(ctx.session.snapshot.speaking).to.equal(true);
    ctx.socket().serverSend({ type: 'agent_stop_talking' });
    expect(ctx.session.snapshot.speaking).to.equal(false);
  });

  it('reports audio the browser suspended, and resumes it on request', async () => {
    const ctx = setup();
    await connect(ctx);
    ctx.audio.suspend(true);
    expect(ctx.session.snapshot.suspended).to.equal(true);
    ctx.session.resumeAudio();
    expect(ctx.audio.log).to.include('resume');
    ctx.audio.suspend(false);
    expect(ctx.session.snapshot.suspended).to.equal(false);
    expect(ctx.events.filter((e) => e.type === 'suspended').map((e) => e.type === 'suspended' && e.suspended)).to.deep.equal([true, false]);
  });

  it('drops queued agent audio on interruption and stops speaking', async () => {
    const ctx = setup();
    await connect(ctx);
    ctx.socket().serverSend({ type: 'agent_start_talking' });
    ctx.socket().serverSend({ type: 'output_audio.delta', audio: btoa('\u0001\u0000') });
    ctx.audio.playback({ type: 'playing', playing: true });
    expect(ctx.session.snapshot.speaking).to.equal(true);
    expect(ctx.audio.enqueued).to.have.length(1);
    ctx.socket().serverSend({ type: 'interruption' });
    expect(ctx.audio.log).to.include('interrupt');
    expect(ctx.session.snapshot.speaking).to.equal(false);
  });

  it('sends session.close on stop, waits for the server, and reports client_requested', async () => {
    const ctx = setup({ closeTimeoutMs: 5000 });
    await connect(ctx);
    const socket = ctx.socket();
    const stopped = ctx.session.stop();
    await settle();
    expect(socket.sentOfType('session.close')).to.have.length(1);
    expect(ctx.audio.log).to.include('close'); // the microphone stops before the server answers
    expect(ctx.session.snapshot.status).to.equal('disconnecting');
    socket.serverSend({ type: 'session.closed', reason: 'client_requested' });
    socket.serverClose(1000);
    await stopped;
    expect(ctx.statuses()).to.deep.equal(['connecting', 'connected', 'disconnecting', 'disconnected']);
    expect(ctx.events.at(-1)).to.deep.equal({ type: 'disconnect', reason: 'client_requested' });
  });

  it('closes the socket itself when the server does not confirm the close', async () => {
    const ctx = setup({ closeTimeoutMs: 20 });
    await connect(ctx);
    await ctx.session.stop();
    expect(ctx.socket().closedWith).to.equal(1000);
    expect(ctx.session.snapshot.status).to.equal('disconnected');
  });

  it('ends cleanly with the server reason when the agent hangs up', async () => {
    const ctx = setup();
    await connect(ctx);
    ctx.socket().serverSend({ type: 'session.closed', reason: 'ended' });
    await settle();
    expect(ctx.session.snapshot.status).to.equal('disconnected');
    expect(ctx.errors()).to.deep.equal([]);
    expect(ctx.events.at(-1)).to.deep.equal({ type: 'disconnect', reason: 'ended' });
  });

  it('turns a fatal error frame into one fatal server-error and a clean disconnect', async () => {
    const ctx = setup();
    await connect(ctx);
    ctx.socket().serverSend({ type: 'error', code: '500', message: 'agent crashed' });
    ctx.socket().serverClose(4000);
    await settle();
    expect(ctx.errors().map((e) => [e.code, e.fatal])).to.deep.equal([['server-error', true]]);
    expect(ctx.session.snapshot.status).to.equal('disconnected');
    expect(ctx.audio.log).to.include('close');
  });

  it('keeps going after non-fatal errors and unreadable frames, reporting them', async () => {
    const ctx = setup();
    await connect(ctx);
    ctx.socket().serverSend({ type: 'error', code: 'invalid_event', message: 'audio is required' });
    ctx.socket().serverSend('garbage');
    ctx.socket().serverSend('more garbage'); // rate-limited: one protocol-error per second
    expect(ctx.errors().map((e) => [e.code, e.fatal])).to.deep.equal([
      ['server-error', false],
      ['protocol-error', false],
    ]);
    expect(ctx.session.snapshot.status).to.equal('connected');
  });

  it('maps an unexpected close to connection-lost and a bare 4000 to server-error', async () => {
    for (const [code, expected] of [
      [1006, 'connection-lost'],
      [4000, 'server-error'],
    ] as const) {
      const ctx = setup({ reconnect: false });
      await connect(ctx);
      ctx.socket().serverClose(code);
      await settle();
      expect(ctx.errors().map((e) => e.code)).to.deep.equal([expected]);
      expect(ctx.session.snapshot.status).to.equal('disconnected');
      expect(ctx.events.at(-1)).to.deep.equal({ type: 'disconnect', reason: 'error' });
    }
  });

  it('fails with socket-failed when the socket closes before the session starts', async () => {
    const ctx = setup();
    const started = ctx.session.start();
    await settle();
    ctx.socket().serverClose(1011, 'restarting');
    await started;
    expect(ctx.errors().map((e) => e.code)).to.deep.equal(['socket-failed']);
    expect(ctx.statuses()).to.deep.equal(['connecting', 'disconnecting', 'disconnected']);
    expect(ctx.events.some((e) => e.type === 'disconnect')).to.equal(false);
  });

  it('fails a start waiting for the agent once, with the error of whatever ended it first', async () => {
    const endings: [string, (ctx: ReturnType<typeof setup>) => void, string, RegExp][] = [
      ['a fatal error frame', (ctx) => ctx.socket().serverSend({ type: 'error', code: '401', message: 'Invalid API key.' }), 'server-error', /401: Invalid API key/],
      ['session.closed', (ctx) => ctx.socket().serverSend({ type: 'session.closed', reason: 'ended' }), 'socket-failed', /ended the session before it started \(ended\)/],
      ['the microphone going away', (ctx) => ctx.audio.loseMicrophone(), 'mic-unavailable', /microphone stopped/],
      ['a close', (ctx) => ctx.socket().serverClose(1006), 'socket-failed', /closed the connection before the session started \(code 1006\)/],
    ];
    for (const [what, end, code, message] of endings) {
      const ctx = setup();
      const started = ctx.session.start();
      await settle();
      end(ctx);
      await started;
      expect(ctx.errors().map((e) => [e.code, e.fatal]), what).to.deep.equal([[code, true]]);
      expect(ctx.errors()[0]!.message, what).to.match(message);
      expect(ctx.statuses(), what).to.deep.equal(['connecting', 'disconnecting', 'disconnected']);
      expect(ctx.events.some((e) => e.type === 'disconnect' || e.type === 'connect'), what).to.equal(false);
      expect(ctx.audio.log, what).to.include('close');
    }
  });

  it('fails with session-timeout when the server never announces the session', async () => {
    const ctx = setup({ sessionTimeoutMs: 30 });
    await ctx.session.start();
    expect(ctx.errors().map((e) => e.code)).to.deep.equal(['session-timeout']);
    expect(ctx.socket().closedWith).to.equal(1000);
  });

  it('reports a refused microphone and opens no socket', async () => {
    const audio = new FakeAudio();
    audio.micError = new VoiceAgentError('mic-denied', 'Microphone access was denied.');
    const ctx = setup({}, audio);
    await ctx.session.start();
    expect(ctx.errors().map((e) => e.code)).to.deep.equal(['mic-denied']);
    expect(ctx.tokens).to.deep.equal([]);
    expect(ctx.deps.sockets).to.have.length(0);
    expect(audio.log).to.include('close');
    expect(ctx.session.snapshot.error?.code).to.equal('mic-denied');
  });

  it('reports any token provider failure as token-failed, and a secret key from one as config-invalid', async () => {
    for (const [tokenProvider, code] of [
      [
        async () => {
          throw new TypeError('provider bug');
        },
        'token-failed',
      ],
      [async () => ({ token: 'sk_live_12345678' }), 'config-invalid'],
      [async () => ({ token: '' }), 'token-failed'],
    ] as const) {
      const ctx = setup({ tokenProvider });
      await ctx.session.start();
      expect(ctx.errors().map((e) => e.code)).to.deep.equal([code]);
      expect(ctx.deps.sockets).to.have.length(0);
      expect(JSON.stringify(ctx.errors().map((e) => e.message))).not.to.contain('live_12345678');
    }
  });

  it('opens nothing when a status listener stops the session as it starts', async () => {
    let created = 0;
    const ctx = setup();
    const createAudio = ctx.deps.createAudio;
    ctx.deps.createAudio = (options) => {
      created++;
      return createAudio(options);
    };
    ctx.session.subscribe((event) => {
      if (event.type === 'status' && event.status === 'connecting') void ctx.session.stop();
    });
    await ctx.session.start();
    expect(created).to.equal(0);
    expect(ctx.tokens).to.deep.equal([]);
    expect(ctx.session.snapshot.status).to.equal('disconnected');
    expect(ctx.errors()).to.deep.equal([]);
  });

  it('ends the call with mic-unavailable when the microphone goes away', async () => {
    const ctx = setup();
    await connect(ctx);
    ctx.audio.loseMicrophone();
    await settle();
    expect(ctx.errors().map((e) => [e.code, e.fatal])).to.deep.equal([['mic-unavailable', true]]);
    expect(ctx.session.snapshot.status).to.equal('disconnected');
    expect(ctx.events.at(-1)).to.deep.equal({ type: 'disconnect', reason: 'error' });
  });

  it('refuses a token endpoint url that is not a WebSocket URL', async () => {
    const ctx = setup({ tokenProvider: async () => ({ token: 'wct_1', url: 'javascript:alert(1)' }) });
    await ctx.session.start();
    expect(ctx.errors().map((e) => e.code)).to.deep.equal(['config-invalid']);
    expect(ctx.deps.sockets).to.have.length(0);
  });

  it('cancels quietly when stopped while connecting', async () => {
    const ctx = setup();
    const started = ctx.session.start();
    await settle();
    await ctx.session.stop();
    await started;
    expect(ctx.errors()).to.deep.equal([]);
    expect(ctx.session.snapshot.status).to.equal('disconnected');
    expect(ctx.socket().closedWith).to.equal(1000);
    expect(ctx.audio.log).to.include('close');
  });

  it('in chat mode opens no audio and sends typed text', async () => {
    const ctx = setup({ mode: 'chat' });
    await connect(ctx);
    expect(ctx.audio.log).to.deep.equal([]);
    expect(ctx.session.sendText('  hello  ')).to.equal(true);
    expect(ctx.socket().sentOfType('input_text.send')).to.deep.equal([{ type: 'input_text.send', text: 'hello' }]);
    expect(ctx.session.snapshot.transcript).to.deep.equal([{ role: 'user', text: 'hello', final: true }]);
    expect(ctx.session.sendText('   ')).to.equal(false);
  });

  it('refuses to send text when not connected', () => {
    const ctx = setup();
    expect(ctx.session.sendText('hello')).to.equal(false);
  });


  it('passes mute to the audio engine', async () => {
    const ctx = setup();
    await connect(ctx);
    ctx.session.setMuted(true);
    expect(ctx.session.snapshot.muted).to.equal(true);
    expect(ctx.audio.log).to.include('muted:true');
  });
});
