/**
 * The playback routes with real AudioContexts, worklets and RTCPeerConnections: the echo-safe route
 * plays the agent's audio through its loopback into an `<audio>` element and releases all of it on
 * close; a route that cannot connect gives way to the direct one; and which route `auto` picks in
 * each engine. Last, the `playback` attribute end to end (bundle, token endpoint, local agent).
 */
import { expect, fixture, html } from '@open-wc/testing';
import { AudioEngine, type AudioEngineOptions } from '../../src/audio/audio-engine.js';
import { playbackRoute, type PlaybackRoute } from '../../src/audio/playback-route.js';
import { ENGINE, type Engine } from '../support/engine.js';
import { expectAllReleased, installSpies, loadBundle, nextEvent, part, recordOutput, waitUntil, type VoiceAgentElement } from '../support/harness.js';
import { fitSine, pcmTone } from '../support/signals.js';

const spies = installSpies();
await loadBundle();

/** WebKitGTK's MiniBrowser here is built without WebRTC: there the echo-safe route must give way. */
const WEBRTC = typeof window.RTCPeerConnection === 'function';

/** Every RTCPeerConnection made, in order. */
const peers: RTCPeerConnection[] = [];
const RealPeerConnection = window.RTCPeerConnection;
if (WEBRTC) {
  window.RTCPeerConnection = class extends RealPeerConnection {
    constructor(configuration?: RTCConfiguration) {
      super(configuration);
      peers.push(this);
    }
  };
}

/** Every media element asked to play, in order. */
const played: HTMLMediaElement[] = [];
const realPlay = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function (this: HTMLMediaElement) {
  played.push(this);
  return realPlay.call(this);
};

const worklets = { baseUrl: '/dist/worklets/' };
const engines: AudioEngine[] = [];

function engine(options: Partial<AudioEngineOptions> = {}): AudioEngine {
  const created = AudioEngine.prepare({ worklets, ...options });
  engines.push(created);
  return created;
}

/** The route the engine's player plays into (private: this layer's own test reaches in). */
function routeOf(target: AudioEngine): Promise<PlaybackRoute> | undefined {
  return (target as unknown as { _route?: Promise<PlaybackRoute> })._route;
}

/** What `auto` (and no `playback` option) picks in each engine. */
const AUTO_ROUTE: Record<Engine, 'direct' | 'echo-safe'> = {
  // Chrome-wide echo cancellation (on by default) takes everything Chromium plays as its reference,
  // Web Audio included: bench/echo.mjs measures the direct route cancelled as well as the echo-safe
  // one, which adds 60–90 ms.
  chromium: 'direct',
  // Firefox's canceller cancels the AudioContext's output too (measured through the same PulseAudio
  // loop): no consistent gain from the loopback, which adds about 70 ms.
  firefox: 'direct',
  // Not measured: direct, as everywhere.
  webkit: 'direct',
};

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  await expectAllReleased(spies);
  peers.length = 0;
  played.length = 0;
});

describe(`playback routes${WEBRTC ? '' : ` (${ENGINE}: no RTCPeerConnection in this build)`}`, () => {
  if (!WEBRTC) {
    it('echo-safe gives way to the direct route, and a call with playback="echo-safe" plays its greeting', async () => {
      const target = engine({ playback: 'echo-safe' });
      await target.start(24000);
      expect((await routeOf(target)!).input).to.equal(target.context.destination);
      const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-id="local-echo" token-endpoint="/api/voice-token" playback="echo-safe"></voice-agent>`);
      const connected = nextEvent(el, 'va-connect');
      part(el, 'call-button')!.click();
      await connected;
      await waitUntil(() => el.outputLevel > 0.02, 'the greeting plays', { timeout: 5000 });
      expect(played).to.have.length(0);
      await el.stop();
    });
  }

  if (WEBRTC) it('plays agent audio through a connected loopback into a playing <audio> element, at its pitch and level', async () => {
    const target = engine({ playback: 'echo-safe' });
    await target.start(24000);
    const route = await routeOf(target)!;
    const { context } = target;
    expect(route.input).to.be.instanceOf(MediaStreamAudioDestinationNode);
    expect(peers).to.have.length(2);
    const [sender, receiver] = peers;
    // The route is ready once its receiving side is connected; the sending side gets there too.
    expect(receiver.connectionState).to.equal('connected');
    await waitUntil(() => sender.connectionState === 'connected', 'the sending side connects');
    expect(sender.getSenders()[0].track).to.equal((route.input as MediaStreamAudioDestinationNode).stream.getAudioTracks()[0]);
    expect(played).to.have.length(1);
    const [element] = played;
    expect(element.paused).to.equal(false);
    const stream = element.srcObject as MediaStream;
    expect(stream.getAudioTracks()).to.deep.equal([receiver.getReceivers()[0].track]);

    // What the element plays, recorded on the audio thread once the tone has arrived.
    const rate = context.sampleRate;
    const { recording } = await recordOutput(new MediaStreamAudioSourceNode(context, { mediaStream: stream }), { length: rate / 5, skip: rate / 5, threshold: 0.05 });
    target.enqueue(pcmTone(440, 24000, 24000 * 3));
    target.endReply();
    const fit = fitSine((await recording).samples, 440, rate);
    expect(fit.amplitude, 'the 440 Hz tone at 0.5').to.be.closeTo(0.5, 0.1);
    expect(fit.snrDb, 'the tone, not noise or silence').to.be.above(20);
  });

  if (WEBRTC) it('closes both peer connections, stops every track and empties the <audio> element on close', async () => {
    const target = engine({ playback: 'echo-safe' });
    await target.start(24000);
    const route = await routeOf(target)!;
    const [element] = played;
    // The sent track, the received one the element plays, and the sender's own (unused) receiver track.
    const tracks = new Set([
      ...(route.input as MediaStreamAudioDestinationNode).stream.getTracks(),
      ...(element.srcObject as MediaStream).getTracks(),
      ...peers.flatMap((p) => [...p.getSenders(), ...p.getReceivers()].flatMap((x) => (x.track ? [x.track] : []))),
    ]);
    expect([...tracks].map((t) => t.readyState)).to.deep.equal(['live', 'live', 'live']);
    await target.close();
    expect(peers.map((p) => [p.connectionState, p.signalingState])).to.deep.equal([
      ['closed', 'closed'],
      ['closed', 'closed'],
    ]);
    expect([...tracks].map((t) => t.readyState)).to.deep.equal(['ended', 'ended', 'ended']);
    expect(element.paused).to.equal(true);
    expect(element.srcObject).to.equal(null);
  });

  if (WEBRTC) it('gives way to the direct route, releasing the loopback, when the loopback does not connect within 3 s', async () => {
    // Candidates that never arrive: neither side has an address to try.
    const addIceCandidate = RealPeerConnection.prototype.addIceCandidate;
    RealPeerConnection.prototype.addIceCandidate = () => Promise.resolve();
    try {
      const context = new AudioContext();
      const routing = playbackRoute(context, 'echo-safe');
      await waitUntil(() => peers[0]?.getSenders()[0]?.track, 'the loopback sends');
      const sent = peers[0].getSenders()[0].track!;
      const route = await routing;
      expect(route.input).to.equal(context.destination);
      expect(peers.map((p) => p.connectionState)).to.deep.equal(['closed', 'closed']);
      expect(sent.readyState).to.equal('ended');
      expect(played).to.have.length(0);
      await context.close();
    } finally {
      RealPeerConnection.prototype.addIceCandidate = addIceCandidate;
    }
  });

  it('gives way to the direct route where there is no RTCPeerConnection', async () => {
    const Spy = window.RTCPeerConnection;
    (window as { RTCPeerConnection?: unknown }).RTCPeerConnection = undefined;
    try {
      const target = engine({ playback: 'echo-safe' });
      await target.start(24000);
      expect((await routeOf(target)!).input).to.equal(target.context.destination);
    } finally {
      window.RTCPeerConnection = Spy;
    }
  });

  for (const playback of [undefined, 'auto', 'direct'] as const) {
    it(`plays ${playback === 'direct' ? 'directly' : `through the ${AUTO_ROUTE[ENGINE]} route`} with ${playback ? `playback: '${playback}'` : 'no playback option'} (${ENGINE})`, async () => {
      const target = engine(playback ? { playback } : {});
      await target.start(24000);
      const route = await routeOf(target)!;
      const expected = playback === 'direct' ? 'direct' : AUTO_ROUTE[ENGINE];
      expect(route.input === target.context.destination ? 'direct' : 'echo-safe').to.equal(expected);
      expect(peers).to.have.length(expected === 'direct' ? 0 : 2);
      await target.close();
    });
  }

  if (WEBRTC) it('plays the greeting of a call started with playback="echo-safe" through the loopback, and releases it on stop', async () => {
    const el = await fixture<VoiceAgentElement>(html`
      <voice-agent agent-id="local-echo" token-endpoint="/api/voice-token" server-url="wss://unused.invalid/agent" playback="echo-safe"></voice-agent>
    `);
    const connected = nextEvent(el, 'va-connect');
    part(el, 'call-button')!.click();
    await connected;
    expect(peers).to.have.length(2);
    expect(peers[1].connectionState).to.equal('connected');
    const [element] = played;
    const context = spies.contexts.at(-1)!;
    const rate = context.sampleRate;
    // The greeting, as the element plays it: speech, not silence.
    const { recording } = await recordOutput(new MediaStreamAudioSourceNode(context, { mediaStream: element.srcObject as MediaStream }), {
      length: rate / 2,
      skip: 0,
      threshold: 0.02,
    });
    const { samples } = await recording;
    const rms = Math.sqrt(samples.reduce((sum, x) => sum + x * x, 0) / samples.length);
    expect(rms, 'the greeting heard through the <audio> element').to.be.above(0.02);
    await el.stop();
    expect(peers.map((p) => p.connectionState)).to.deep.equal(['closed', 'closed']);
    expect(element.srcObject).to.equal(null);
  });
});
