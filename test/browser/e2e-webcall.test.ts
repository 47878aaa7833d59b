/**
 * End to end, as a site would run it: the built bundle, the site's token endpoint (the real token
 * handler) in front of the local agent, a fake microphone that speaks a phrase every 6 s, real
 * AudioContexts and worklets, and the agent's audio measured at the playback output.
 */
import { expect, fixture, html } from '@open-wc/testing';
import {
  ENGINE,
  agentSession,
  expectAllReleased,
  installSpies,
  loadBundle,
  nextEvent,
  part,
  parts,
  lastLoudFrame,
  recordEvents,
  tapOutput,
  watchClears,
  type VoiceAgentElement,
  waitUntil,
} from '../support/harness.js';

const spies = installSpies();
await loadBundle();

const QUIET = JSON.stringify({ greeting: '' });
/** The engine's own context rate, and another one every audio test also runs at. */
const NATIVE_RATE = await (async () => {
  const probe = new AudioContext();
  const rate = probe.sampleRate;
  await probe.close();
  return rate;
})();
const FORCED_RATE = NATIVE_RATE === 48000 ? 44100 : 48000;
const QUANTUM = 128;
const LONG_GREETING =
  'Welcome to the long greeting. It goes on for a good while, sentence after sentence, so that whoever is listening ' +
  'has plenty of time to talk over it. It keeps going, and going, and going, until somebody finally interrupts it.';

async function call(variables: string, attrs: { contextSampleRate?: number } = {}) {
  const el = await fixture<VoiceAgentElement>(html`
    <voice-agent
      agent-id="local-echo"
      token-endpoint="/api/voice-token"
      server-url="wss://unused.invalid/agent"
      variables=${variables}
      .sessionOptions=${attrs.contextSampleRate ? { audio: { contextSampleRate: attrs.contextSampleRate } } : undefined}
    ></voice-agent>
  `);
  const events = recordEvents(el);
  const connected = nextEvent<CustomEvent>(el, 'va-connect');
  const contexts = spies.contexts.length;
  part(el, 'call-button')!.click();
  // Inside the click, before any await: iOS and Safari only start audio from a user gesture.
  expect(spies.contexts.length, 'AudioContext created synchronously in the click').to.equal(contexts + 1);
  expect(spies.contexts.at(-1)!.sampleRate).to.equal(attrs.contextSampleRate ?? NATIVE_RATE);
  const { detail } = await connected;
  return { el, events, sessionId: detail.sessionId as string, detail };
}

afterEach(async () => {
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  await expectAllReleased(spies);
});

describe('webcall end to end (bundle + token endpoint + local agent)', () => {
  for (const contextSampleRate of [undefined, FORCED_RATE]) {
    describe(contextSampleRate ? `with the AudioContext forced to ${contextSampleRate} Hz` : `at the engine's native rate (${NATIVE_RATE} Hz)`, () => {
      it('connects through the token endpoint and streams 20 ms PCM16 frames at 24 kHz', async () => {
        const { el, events, detail, sessionId } = await call(QUIET, { contextSampleRate });
        expect(el.status).to.equal('connected');
        expect(detail.sampleRate).to.equal(24000);
        expect(detail.callId).to.match(/^CALL-/);
        expect(events.filter((e) => e.type === 'va-status-change').map((e) => e.detail.status)).to.deep.equal(['connecting', 'connected']);
        // The token went in the query of the URL from the token endpoint, not to the default server-url.
        expect(spies.sockets.at(-1)!.url).to.match(/^ws:\/\/127\.0\.0\.1:\d+\/atoms\/v1\/agent\/connect\?token=wct_/);
        await waitUntil(async () => ((await agentSession(sessionId))?.appendFrames ?? 0) >= 25, 'the agent receives frames', { timeout: 5000 });
        const stats = (await agentSession(sessionId))!;
        expect(Object.keys(stats.frameSamples)).to.deep.equal(['480']);
        expect(stats.variables).to.deep.equal({ greeting: '' });
        const settings = spies.streams.at(-1)!.getAudioTracks()[0].getSettings();
        // WebKit applies and reports echo cancellation only: it has no noise-suppression or auto-gain setting.
        const processing = ENGINE === 'webkit' ? [true, undefined, undefined] : [true, true, true];
        expect([settings.echoCancellation, settings.noiseSuppression, settings.autoGainControl]).to.deep.equal(processing);
        expect(stats.agentId).to.equal('local-echo');
      });

      it('round-trips a spoken turn: the agent hears it, transcribes it, and answers with audio', async () => {
        const { el, sessionId } = await call(QUIET, { contextSampleRate });
        const userFinal = await nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.role === 'user' && e.detail.final);
        expect(userFinal.detail.text).to.be.a('string').and.not.equal('');
        await nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.role === 'assistant' && !e.detail.final);
        expect(el.speaking).to.equal(true);
        await el.updateComplete;
        expect(el.matches(':state(speaking)'), ':state(speaking) while the agent talks').to.equal(true);
        await waitUntil(() => el.outputLevel > 0.02, 'the agent reply is audible at the output', { timeout: 5000 });
        await nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.role === 'assistant' && e.detail.final);
        await waitUntil(() => !el.speaking, 'the agent stops talking');
        await el.updateComplete;
        expect(el.matches(':state(speaking)'), 'no :state(speaking) once the agent is done').to.equal(false);
        const stats = (await agentSession(sessionId))!;
        expect(stats.turns).to.be.at.least(1);
        expect(stats.maxInputRms).to.be.above(0.02);
        // Voice, not noise: PCM16 little-endian on the wire (swapped bytes would arrive as noise, near 0).
        expect(stats.inputCorrelation, 'the agent hears voice').to.be.above(0.5);
        expect(stats.audioSentMs).to.be.above(200);
        const messages = parts(el, 'message');
        expect(messages.map((m) => m.getAttribute('part'))).to.include.members(['message message-user', 'message message-assistant']);
      });

      it('silences playback within a couple of render quanta when the user talks over the agent', async () => {
        const { el, sessionId } = await call(JSON.stringify({ greeting: LONG_GREETING }), { contextSampleRate });
        const player = spies.workletNodes.filter((n) => n.name === 'voice-agent-playback').at(-1)!.node;
        const tap = await tapOutput(player);
        const clears = watchClears(player);
        await waitUntil(() => el.speaking && el.outputLevel > 0.02, 'the greeting is playing', { timeout: 5000 });
        const interruptions = spies.interruptionFrames.length;
        // The microphone's phrase interrupts the greeting: the agent cuts its transcript to what was heard.
        const cut = await nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.role === 'assistant' && e.detail.final);
        expect(el.speaking).to.equal(false);
        expect(spies.interruptionFrames.length).to.equal(interruptions + 1);
        // The player cleared its queue at once: the page told it within a moment of the frame's
        // arrival, and the audio thread went silent one fading quantum after taking the command. On
        // the audio clock, from the context's time when the frame arrived to the frame the clear took
        // effect at (the confirmation's trip back to the page is not counted: WebKit delivers worklet
        // messages in bursts that can come a second apart under load).
        await waitUntil(() => clears.length > 0, 'the player confirms a clear');
        const rate = player.context.sampleRate;
        const clearedAt = clears[0].frame;
        expect(((clearedAt - spies.interruptionFrames.at(-1)!) / rate) * 1000, 'ms of audio from the interruption frame to the clear').to.be.below(150);
        const tapped = await tap.reach(clearedAt + rate);
        // Watched: a second, or less if the agent's next reply (to the words that interrupted it)
        // arrives sooner. The agent sends audio ahead of realtime, so seconds were still queued: a
        // session that ignored the interruption would play on (the queue drains by itself), a slow
        // fade would sound for 200 ms. The voice may already be between two words.
        const nextAudio = spies.nextAudioFrames[spies.interruptionFrames.length - 1] ?? Infinity;
        const until = Math.min(clearedAt + rate, nextAudio);
        expect(until - clearedAt, 'time until the next reply').to.be.above(rate / 10);
        expect(lastLoudFrame(tapped, clearedAt, until) - clearedAt, 'samples of the greeting after the clear').to.be.at.most(2 * QUANTUM);
        expect(cut.detail.text.length).to.be.below(LONG_GREETING.length);
        expect(LONG_GREETING.startsWith(cut.detail.text)).to.equal(true);
        expect((await agentSession(sessionId))!.interruptions).to.equal(1);
        // One entry for the interrupted greeting: its cumulative deltas replaced each other. (The
        // agent's answer to the words that interrupted it may follow as an entry of its own.)
        const assistant = parts(el, 'message-assistant');
        expect(el.transcript.filter((e) => e.role === 'assistant' && LONG_GREETING.startsWith(e.text)).length).to.equal(1);
        expect(assistant[0].textContent!.replace(/\s+/g, ' ')).to.contain(cut.detail.text);
      });

      it('mutes: the agent hears silence and the button says so', async () => {
        const { el, sessionId } = await call(QUIET, { contextSampleRate });
        el.muted = true;
        await el.updateComplete;
        expect(part(el, 'mute-button')!.getAttribute('aria-pressed')).to.equal('true');
        expect(el.hasAttribute('muted')).to.equal(true);
        const before = (await agentSession(sessionId))!.appendFrames;
        await waitUntil(async () => (await agentSession(sessionId))!.appendFrames > before + 150, 'three more seconds of frames', { timeout: 10000 });
        expect(el.inputLevel).to.equal(0);
        expect((await agentSession(sessionId))!.turns).to.equal(0);
      });
    });
  }

  for (const contextSampleRate of [24000]) {
    it(`sends 24 kHz speech from a context at the wire rate (${contextSampleRate} Hz): no resampling`, async () => {
      const { sessionId } = await call(QUIET, { contextSampleRate });
      expect(spies.contexts.at(-1)!.sampleRate).to.equal(contextSampleRate);
      await waitUntil(async () => ((await agentSession(sessionId))?.turns ?? 0) >= 1, 'the agent hears a spoken turn', { timeout: 15000 });
      const stats = (await agentSession(sessionId))!;
      expect(Object.keys(stats.frameSamples)).to.deep.equal(['480']);
      expect(stats.maxInputRms).to.be.above(0.02);
    });
  }

  it('takes typed text during a voice call', async () => {
    const { el, sessionId } = await call(QUIET);
    const entry = nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.role === 'user' && e.detail.text === 'typed while talking');
    expect(el.sendText('typed while talking')).to.equal(true);
    expect((await entry).detail.final).to.equal(true);
    await waitUntil(async () => (await agentSession(sessionId))!.textInputs.includes('typed while talking'), 'the agent receives the text');
  });

  it('ends with session.close on stop and releases the microphone, context and socket', async () => {
    const { el, events, sessionId } = await call(QUIET);
    await el.stop();
    expect(el.status).to.equal('disconnected');
    await expectAllReleased(spies);
    expect(events.at(-1)!.type).to.equal('va-disconnect');
    expect(events.at(-1)!.detail).to.deep.equal({ reason: 'client_requested' });
    await waitUntil(async () => (await agentSession(sessionId))!.closeReason === 'client_requested', 'the agent saw a clean close');
  });

  it('ends the call when the element is removed from the page, but not when it is moved', async () => {
    const { el } = await call(QUIET);
    const other = document.createElement('div');
    document.body.append(other);
    other.append(el); // a move
    await Promise.resolve();
    await new Promise((resolve) => setTimeout(resolve));
    expect(el.status).to.equal('connected');
    const disconnected = nextEvent(el, 'va-disconnect');
    el.remove();
    await disconnected;
    expect(el.status).to.equal('disconnected');
    await expectAllReleased(spies);
    other.remove();
  });
});
