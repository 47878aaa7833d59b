import '../support/guards.js';
import { expect } from '@open-wc/testing';
import { AudioEngine, type AudioEngineOptions, type PlaybackEvent } from '../../src/audio/audio-engine.js';
import { pcmTone } from '../support/signals.js';
import { recordOutput, tapOutput, waitUntil } from '../support/harness.js';

/**
 * The player's adaptive jitter buffer, its playing edges, per-reply accounting and marks, measured on
 * the audio thread (an output tap and a recorder beside the real player worklet).
 */
const worklets = { baseUrl: '/dist/worklets/' };
const engines: AudioEngine[] = [];
const sources: AudioContext[] = [];
const RATE = 24000;
const QUANTUM = 128;

async function player(options: Partial<AudioEngineOptions> = {}): Promise<AudioEngine> {
  const created = AudioEngine.prepare({ worklets, ...options });
  engines.push(created);
  await created.start(RATE);
  return created;
}

function playerNode(target: AudioEngine): AudioWorkletNode {
  return (target as unknown as { _playback: AudioWorkletNode })._playback;
}

/** A microphone that plays a 1 kHz tone at `amplitude` (stereo, like most microphone tracks). */
function toneMicrophone(amplitude: number): MediaStream {
  const source = new AudioContext({ sampleRate: 48000 });
  sources.push(source);
  const oscillator = new OscillatorNode(source, { frequency: 1000 });
  const destination = new MediaStreamAudioDestinationNode(source, { channelCount: 2 });
  oscillator.connect(new GainNode(source, { gain: amplitude })).connect(destination);
  oscillator.start();
  return destination.stream;
}

function events(target: AudioEngine): PlaybackEvent[] {
  const seen: PlaybackEvent[] = [];
  target.onPlayback((event) => seen.push(event));
  return seen;
}

/**
 * Waits for the player's edges so far to be `count` long (true, false, true, …). Each edge is a
 * message from the audio thread: WebKit can deliver several at once, so polling `playing` could miss one.
 */
function edges(seen: PlaybackEvent[], count: number, message: string): Promise<void> {
  const list = () => seen.flatMap((e) => (e.type === 'playing' ? [e.playing] : []));
  return waitUntil(() => list().length >= count, `${message} (events so far: ${JSON.stringify(seen)})`);
}

/**
 * One phase-continuous 300 Hz tone riding on an offset (0.18 ± 0.12, never near zero), cut into
 * `ms`-long chunks: any gap or jump in the output is the player's, and the output tap sees one loud
 * run for as long as it plays.
 */
function chunks(totalMs: number, ms: number): Int16Array[] {
  const samples = (RATE * totalMs) / 1000;
  const step = (RATE * ms) / 1000;
  const whole = pcmTone(300, RATE, samples, 4000).map((s) => s + 6000);
  const out: Int16Array[] = [];
  for (let i = 0; i < samples; i += step) out.push(whole.slice(i, i + step));
  return out;
}

/** Largest jump between neighbouring samples: the 300 Hz part moves at most 0.006 per sample at 44.1 kHz, a one-quantum fade of 0.3 about 0.003. */
function largestStep(samples: Float32Array, from = 0, to = samples.length): number {
  let largest = 0;
  for (let i = from + 1; i < to; i++) largest = Math.max(largest, Math.abs(samples[i] - samples[i - 1]));
  return largest;
}

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
  await Promise.all(sources.splice(0).map((c) => c.close()));
});

describe('Jitter buffer and player (real worklets)', () => {
  it('plays audio sent far ahead of realtime as one gapless, click-free run and reports what the reply played', async () => {
    const target = await player();
    const seen = events(target);
    const rate = target.sampleRate;
    const { recording } = await recordOutput(playerNode(target), { length: Math.round(rate * 1.9), skip: 0 });
    for (const chunk of chunks(2000, 40)) target.enqueue(chunk); // 2 s in one burst, as real servers send
    target.endReply();
    const { samples } = await recording;
    expect(Math.min(...samples.subarray(QUANTUM)), 'no gap inside the reply').to.be.above(0.05);
    expect(largestStep(samples), 'no click').to.be.below(0.02);
    await waitUntil(() => seen.some((e) => e.type === 'reply'), 'the reply plays out');
    const reply = seen.find((e) => e.type === 'reply')!;
    expect(reply).to.deep.include({ interrupted: false });
    expect((reply as { playedMs: number }).playedMs).to.be.closeTo(2000, (QUANTUM / rate) * 1000 + 1);
    expect(seen.filter((e) => e.type === 'playing').map((e) => e.type === 'playing' && e.playing)).to.deep.equal([true, false]);
  });

  it('fades out when a reply runs dry and back in when it continues, losing no audio', async () => {
    const target = await player({ replyGapMs: 10_000 }); // the late half stays in the reply however late WebKit tells of the stall
    const rate = target.sampleRate;
    const parts = chunks(600, 300);
    const tap = await tapOutput(playerNode(target));
    // 2 s from the first sound: the 600 ms of audio, the stall, and whatever the main thread takes.
    const { recording } = await recordOutput(playerNode(target), { length: Math.round(rate * 2), skip: 0, threshold: 1e-3 });
    const seen = events(target);
    target.enqueue(parts[0]);
    await edges(seen, 2, 'the reply starts, then runs dry: the network stalls');
    target.enqueue(parts[1]); // the rest of the same reply, late
    target.endReply();
    await waitUntil(() => target.playbackStats.underruns === 1, `the late audio counts as one underrun (events: ${JSON.stringify(seen)})`);
    await waitUntil(() => seen.some((e) => e.type === 'reply'), 'the reply plays out');
    const { samples } = await recording;
    expect(largestStep(samples), 'the stop and the restart are fades, not clicks').to.be.below(0.02);
    const state = await tap.read();
    const loud = state.runs.reduce((n, [start, end]) => n + end - start, 0);
    // Every sample of the 600 ms plays (the edges fade, so up to a quantum at each end reads quiet).
    expect(loud / rate).to.be.closeTo(0.6, (4 * QUANTUM) / rate);
    expect(state.runs.length, 'two runs: before and after the stall').to.equal(2);
  });

  it('grows its wait past the lateness of an underrun (shrinking is tested on a simulated clock)', async () => {
    // WebKit can deliver the audio thread's messages a second late: a long reply gap keeps the late
    // audio inside the same reply however long the main thread takes to send it.
    const target = await player({ prebufferMs: 40, maxBufferMs: 400, replyGapMs: 10_000 });
    const rate = target.sampleRate;
    const tap = await tapOutput(playerNode(target));
    const before = await target.readLoad();
    expect(before.playback!.targetMs).to.be.closeTo(40, 1);
    const seen = events(target);
    target.enqueue(chunks(100, 100)[0]);
    await edges(seen, 2, 'the reply starts, then runs dry');
    // The rest of the reply arrives after a 150 ms stall, counted on the audio thread's clock.
    await tap.reach((await tap.read()).reached + 0.15 * rate);
    target.enqueue(chunks(100, 100)[0]);
    await waitUntil(() => target.playbackStats.underruns === 1, `an underrun (events: ${JSON.stringify(seen)})`);
    const grown = (await target.readLoad()).playback!.targetMs;
    expect(grown, 'the wait covers the 150 ms stall it sat through').to.be.above(150);
    expect(grown).to.be.at.most(400);
  });

  it('keeps a fixed prebuffer when asked to (the baseline), whatever arrives late', async () => {
    const target = await player({ prebufferMs: 250, adaptiveBuffer: false, replyGapMs: 10_000 });
    const seen = events(target);
    target.enqueue(chunks(100, 100)[0]);
    await edges(seen, 2, 'a short reply still plays once nothing more comes, and runs dry');
    target.enqueue(chunks(100, 100)[0]);
    await waitUntil(() => target.playbackStats.underruns === 1, `an underrun (events: ${JSON.stringify(seen)})`);
    expect((await target.readLoad()).playback!.targetMs).to.be.closeTo(250, 1);
  });

  it('tells how much of a reply was heard when a barge-in cuts it', async () => {
    const target = await player();
    const seen = events(target);
    const rate = target.sampleRate;
    const tap = await tapOutput(playerNode(target));
    for (const chunk of chunks(3000, 100)) target.enqueue(chunk);
    await waitUntil(async () => (await tap.read()).runs.some(([start, end]) => end - start > rate * 0.3), 'over 300 ms has played');
    target.interrupt();
    await waitUntil(() => seen.some((e) => e.type === 'reply'), 'the cut reply is reported');
    const reply = seen.find((e) => e.type === 'reply') as Extract<PlaybackEvent, { type: 'reply' }>;
    expect(reply.interrupted).to.equal(true);
    // Heard: the loud frames up to the clear. On a busy machine the page can post its chunks late and
    // the player run dry for a moment; that silence was not played, and is not counted.
    const { runs } = await tap.read();
    const clearedAt = target.playbackStats.lastClearFrame;
    const heard = (runs.reduce((frames, [start, end]) => frames + Math.max(0, Math.min(end, clearedAt) - start), 0) / rate) * 1000;
    expect(reply.playedMs, 'what the player rendered up to the clear').to.be.closeTo(heard, (2 * QUANTUM * 1000) / rate);
    expect(reply.playedMs).to.be.within(300, 3000);
  });

  it('calls a mark once the audio queued before it has been heard, and drops marks on a barge-in', async () => {
    const target = await player();
    const rate = target.sampleRate;
    const tap = await tapOutput(playerNode(target));
    const reached: number[] = [];
    target.enqueue(chunks(200, 200)[0]);
    target.mark(() => void tap.read().then((state) => reached.push(state.runs.reduce((n, [s, e]) => n + e - s, 0))));
    let dropped = false;
    target.enqueue(chunks(2000, 2000)[0]);
    target.mark(() => (dropped = true));
    await waitUntil(() => reached.length === 1, 'the first mark is reached');
    // The tap is read through a message to its own worklet, and on a busy machine its count can trail the
    // player's by a few quanta (Firefox in CI: 188.7 ms). A mark called when queued, not when heard,
    // would find next to nothing heard.
    expect(reached[0] / rate, 'reached after its 200 ms were heard').to.be.at.least(0.2 - (10 * QUANTUM) / rate);
    target.interrupt();
    await waitUntil(() => target.playbackStats.lastClearFrame >= 0, 'the clear is confirmed');
    const after = await new Promise<boolean>((resolve) => target.mark(() => resolve(true)));
    expect(after, 'a mark with nothing queued is reached at once').to.equal(true);
    expect(dropped, 'the mark behind the dropped audio never fires').to.equal(false);
  });

  it('measures its levels in the worklets, with no AnalyserNode', async () => {
    const RealAnalyser = window.AnalyserNode;
    let analysers = 0;
    window.AnalyserNode = class extends RealAnalyser {
      constructor(context: BaseAudioContext, options?: AnalyserOptions) {
        super(context, options);
        analysers++;
      }
    };
    try {
      const stream = toneMicrophone(0.5);
      const target = AudioEngine.prepare({ worklets, contextSampleRate: 48000, getUserMedia: async () => stream });
      engines.push(target);
      await target.openMicrophone();
      await target.start(RATE);
      target.enqueue(pcmTone(440, RATE, RATE * 2, 16384));
      await waitUntil(() => Math.abs(target.inputLevel - 0.5 / Math.SQRT2) < 0.03, 'the microphone level is the tone RMS');
      await waitUntil(() => Math.abs(target.outputLevel - 0.5 / Math.SQRT2) < 0.03, 'the output level is the reply RMS');
      target.interrupt();
      expect(await target.readLoad().then((l) => l.capture!.quanta)).to.be.above(0);
      await waitUntil(() => target.outputLevel === 0, 'silent after the barge-in');
      expect(analysers).to.equal(0);
    } finally {
      window.AnalyserNode = RealAnalyser;
    }
  });

  it('reports worklet time per quantum from the worklets themselves', async () => {
    const stream = toneMicrophone(0.1);
    const target = AudioEngine.prepare({ worklets, getUserMedia: async () => stream });
    engines.push(target);
    await target.openMicrophone();
    await target.start(RATE);
    target.enqueue(pcmTone(440, RATE, RATE));
    // Five 20 ms frames captured: the worklets have run at least 100 ms of quanta (34 at 44.1 kHz).
    await new Promise<void>((resolve) => {
      let frames = 0;
      const stop = target.onFrame(() => {
        if (++frames < 5) return;
        stop();
        resolve();
      });
    });
    const load = await target.readLoad();
    const quanta = (0.1 * target.sampleRate) / QUANTUM;
    expect(load.quantumMs).to.be.closeTo((QUANTUM / target.sampleRate) * 1000, 1e-9);
    expect(load.capture!.quanta).to.be.at.least(Math.floor(quanta) - 1);
    expect(load.playback!.quanta).to.be.at.least(Math.floor(quanta) - 1);
    for (const meter of [load.capture!, load.playback!]) {
      expect(meter.meanMs).to.be.at.least(0);
      expect(meter.meanMs, 'far under a quantum').to.be.below(load.quantumMs);
      expect(meter.maxMs).to.be.at.least(meter.meanMs);
    }
  });
});

describe('Audio the browser suspends (a phone call, a background tab)', () => {
  it('says so, and resumes when the page is shown again', async () => {
    const target = await player();
    const changes: boolean[] = [];
    target.onSuspend((suspended) => changes.push(suspended));
    await target.context.suspend();
    await waitUntil(() => target.suspended, 'the engine sees the suspension');
    document.dispatchEvent(new Event('visibilitychange'));
    await waitUntil(() => target.context.state === 'running' && !target.suspended, 'it resumes');
    expect(changes).to.deep.equal([true, false]);
  });
});
