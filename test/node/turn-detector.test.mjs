import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TurnDetector, frameRms } from '../../dist/local-agent/index.js';

const RATE = 24000;
const FRAME = 480; // 20 ms

/** A square wave of `ms` at `amplitude` (its RMS is exactly the amplitude). */
function loud(ms, amplitude = 0.1) {
  const pcm = new Int16Array(Math.round((ms * RATE) / 1000));
  for (let i = 0; i < pcm.length; i++) pcm[i] = (i % 20 < 10 ? 1 : -1) * Math.round(amplitude * 32768);
  return pcm;
}
const quiet = (ms) => new Int16Array(Math.round((ms * RATE) / 1000));

/** Feeds `pcm` in frames of `frameSamples` and returns every event with the index of the frame that caused it. */
function feed(detector, pcm, frameSamples = FRAME) {
  const events = [];
  for (let start = 0, index = 0; start < pcm.length; start += frameSamples, index++) {
    for (const event of detector.push(pcm.subarray(start, start + frameSamples))) events.push({ ...event, frame: index });
  }
  return events;
}

test('frameRms normalises PCM16 to [0, 1]', () => {
  assert.equal(frameRms(new Int16Array(0)), 0);
  assert.equal(frameRms(quiet(20)), 0);
  assert.ok(Math.abs(frameRms(loud(20, 0.25)) - 0.25) < 1e-4);
});

test('silence never starts a turn', () => {
  const detector = new TurnDetector({ sampleRate: RATE });
  assert.deepEqual(feed(detector, quiet(2000)), []);
  assert.equal(detector.speaking, false);
  assert.equal(detector.maxRms, 0);
});

test('speech starts after 60 ms of consecutive loud frames', () => {
  const detector = new TurnDetector({ sampleRate: RATE });
  assert.deepEqual(feed(detector, loud(40)), [], '40 ms is a click, not speech');
  assert.deepEqual(feed(detector, quiet(20)), []);
  const events = feed(detector, loud(100));
  assert.deepEqual(events, [{ type: 'speech-start', frame: 2 }], 'starts on the third 20 ms frame');
  assert.equal(detector.speaking, true);
  assert.ok(Math.abs(detector.maxRms - 0.1) < 1e-4);
});

test('a frame below the threshold does not count as speech', () => {
  const detector = new TurnDetector({ sampleRate: RATE, threshold: 0.05 });
  assert.deepEqual(feed(detector, loud(500, 0.04)), []);
  assert.deepEqual(
    feed(detector, loud(60, 0.051)).map((event) => event.type),
    ['speech-start'],
  );
});

test('the turn ends after 600 ms below the threshold, with its duration', () => {
  const detector = new TurnDetector({ sampleRate: RATE });
  feed(detector, loud(560));
  assert.equal(detector.speechMs, 560);
  assert.deepEqual(feed(detector, quiet(580)), [], '580 ms of quiet is a pause');
  assert.equal(detector.speaking, true);
  const [end] = feed(detector, quiet(20));
  assert.equal(end.type, 'speech-end');
  assert.equal(end.durationMs, 560);
  assert.equal(detector.speaking, false);
  assert.equal(detector.speechMs, 0);
});

test('pauses shorter than the silence window stay inside one turn', () => {
  const detector = new TurnDetector({ sampleRate: RATE });
  const events = feed(detector, Int16Array.from([...loud(300), ...quiet(400), ...loud(300), ...quiet(700)]));
  assert.deepEqual(
    events.map((event) => event.type),
    ['speech-start', 'speech-end'],
  );
  assert.equal(events[1].durationMs, 1000);
});

test('the captured audio runs from 100 ms before the onset to 100 ms after the last loud frame', () => {
  const detector = new TurnDetector({ sampleRate: RATE });
  const speech = loud(300);
  const events = feed(detector, Int16Array.from([...quiet(500), ...speech, ...quiet(700)]));
  const { audio } = events.find((event) => event.type === 'speech-end');
  assert.equal(audio.length, Math.round(0.5 * RATE), '100 ms pre-roll + 300 ms speech + 100 ms tail');
  assert.ok(audio.subarray(0, 0.1 * RATE).every((sample) => sample === 0));
  assert.deepEqual(audio.subarray(0.1 * RATE, 0.4 * RATE), speech);
  assert.ok(audio.subarray(0.4 * RATE).every((sample) => sample === 0));
});

test('long speech is timed in full but captured only up to 15 s', () => {
  const detector = new TurnDetector({ sampleRate: RATE });
  const events = feed(detector, Int16Array.from([...loud(20_000), ...quiet(600)]), 2400);
  const end = events.find((event) => event.type === 'speech-end');
  assert.equal(end.durationMs, 20_000);
  assert.equal(end.audio.length, 15 * RATE);
});

test('frames of any length and custom settings work', () => {
  const detector = new TurnDetector({ sampleRate: 16000, threshold: 0.2, silenceMs: 300, onsetMs: 100 });
  const frame = (amplitude) => {
    const pcm = new Int16Array(1600); // 100 ms
    pcm.fill(Math.round(amplitude * 32768));
    return pcm;
  };
  assert.deepEqual(detector.push(frame(0.1)), []);
  assert.deepEqual(detector.push(frame(0.3)), [{ type: 'speech-start' }]);
  assert.deepEqual(detector.push(frame(0)), []);
  assert.deepEqual(detector.push(frame(0)), []);
  const [end] = detector.push(frame(0));
  assert.equal(end.type, 'speech-end');
  assert.equal(end.durationMs, 100);
  assert.ok(Math.abs(detector.maxRms - 0.3) < 1e-4);
});

test('the detector rejects unusable settings', () => {
  assert.throws(() => new TurnDetector({ sampleRate: 0 }), RangeError);
  assert.throws(() => new TurnDetector({ sampleRate: RATE, threshold: 0 }), RangeError);
  assert.throws(() => new TurnDetector({ sampleRate: RATE, silenceMs: Number.NaN }), RangeError);
});
