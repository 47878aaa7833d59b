/**
 * A deterministic synthetic voice and PCM16 helpers. No speech engine is available to the local agent,
 * so it "speaks" in voice-like babble: every word is one or two voiced syllables (a harmonic series on
 * a gliding pitch, shaped by vowel formants picked from the word's letters), in the rhythm of speech.
 * The same voice produces the test fixtures that stand in for a user talking into a microphone.
 */

/** One word of synthesized speech and where it sits in the audio. */
export interface SpokenWord {
  /** The word as written, with any punctuation attached to it. */
  text: string;
  /** Offset of the word's first non-silent sample, in ms from the start of the audio. */
  startMs: number;
  /** Offset just past the word's last non-silent sample, in ms. */
  endMs: number;
}

/** Voice settings for {@link synthesizeSpeech}. */
export interface SpeechOptions {
  /** Duration of a four-letter word in ms (default 300); shorter words are a little shorter, longer ones longer. */
  wordMs?: number;
  /** Centre of the voice's pitch in Hz (default 145); each word sits up to 35 Hz above or below it. */
  pitchHz?: number;
  /** Peak amplitude of every word, linear in (0, 1] (default 0.3). */
  amplitude?: number;
}

/** The result of {@link synthesizeSpeech}. */
export interface SynthesizedSpeech {
  /** Mono PCM16 samples at the requested rate. */
  pcm: Int16Array;
  /** One entry per word, in order, with non-overlapping, increasing times. */
  words: SpokenWord[];
  /** `pcm.length` in ms. */
  durationMs: number;
}

const ATTACK_MS = 12;
const RELEASE_MS = 12;
/** Where the second syllable of a two-syllable word starts, as a fraction of the word. */
const SYLLABLE_SPLIT = 0.45;
/** Width of the dip in loudness (and the cross-fade between vowels) at a syllable boundary. */
const SYLLABLE_JOIN_MS = 40;
const SYLLABLE_DIP = 0.45;
const WORD_GAP_MIN_MS = 60;
const WORD_GAP_SPREAD_MS = 30;
const CLAUSE_GAP_MS = 170;
const SENTENCE_GAP_MS = 300;
/** Harmonics stop here: telephone-band speech, and well clear of Nyquist at 8 kHz. */
const MAX_HARMONIC_HZ = 3800;
const WAVETABLE_SIZE = 2048;
const VIBRATO_HZ = 5.5;
const VIBRATO_DEPTH = 0.008;
/** The highest the pitch goes above a word's base: a question's rise (+15 %) plus vibrato. */
const PITCH_HEADROOM = 1.15 * (1 + VIBRATO_DEPTH);
/** Spectral tilt of the harmonics (amplitude ∝ 1 / k^tilt), a rough stand-in for the glottal source. */
const SOURCE_TILT = 0.7;

/** First three formants (Hz) of the vowel each letter most often spells, from classic vowel charts. */
const FORMANTS: Readonly<Record<string, readonly [number, number, number]>> = {
  a: [730, 1090, 2440],
  e: [530, 1840, 2480],
  i: [390, 1990, 2550],
  o: [570, 840, 2410],
  u: [440, 1020, 2240],
  y: [270, 2290, 3010],
};
const SCHWA: readonly [number, number, number] = [500, 1500, 2500];
const FORMANT_BANDWIDTHS = [90, 110, 170] as const;
const FORMANT_WEIGHTS = [1, 0.6, 0.3] as const;
const FORMANT_FLOOR = 0.03;

/**
 * Synthesizes speech-like audio for `text`: a deterministic, voice-like babble with one or two syllables
 * per word, 60–90 ms pauses between words and longer ones after punctuation. Words are separated by
 * exact digital silence; inside a word the level stays well above a speech detector's threshold.
 * The same input always gives the same samples.
 *
 * @param text Words separated by whitespace; punctuation stays attached to the word it follows.
 * @param sampleRate Output rate in Hz (8000–192000).
 * @throws RangeError for an unusable sample rate or option.
 */
export function synthesizeSpeech(text: string, sampleRate: number, options: SpeechOptions = {}): SynthesizedSpeech {
  const { wordMs = 300, pitchHz = 145, amplitude = 0.3 } = options;
  if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 192_000) {
    throw new RangeError(`sampleRate must be an integer from 8000 to 192000 (got ${sampleRate})`);
  }
  if (!(wordMs >= 50 && wordMs <= 5000)) throw new RangeError(`wordMs must be from 50 to 5000 (got ${wordMs})`);
  if (!(pitchHz >= 60 && pitchHz <= 400)) throw new RangeError(`pitchHz must be from 60 to 400 (got ${pitchHz})`);
  if (!(amplitude > 0 && amplitude <= 1)) throw new RangeError(`amplitude must be in (0, 1] (got ${amplitude})`);

  const tokens = splitWords(text);
  const plan = tokens.map((word, index) => {
    const hash = hashString(`${index}:${word}`);
    const letters = word.toLowerCase().replace(/[^a-z0-9]/g, '').length;
    const durationMs = wordMs * (0.7 + 0.075 * Math.min(letters, 8));
    const gapMs = index === tokens.length - 1 ? 0 : pauseAfter(word, hash);
    return { word, hash, samples: msToSamples(durationMs, sampleRate), gapSamples: msToSamples(gapMs, sampleRate) };
  });

  const total = plan.reduce((sum, p) => sum + p.samples + p.gapSamples, 0);
  const pcm = new Int16Array(total);
  const words: SpokenWord[] = [];
  let offset = 0;
  for (const { word, hash, samples, gapSamples } of plan) {
    const voiced = renderWord(word, hash, samples, sampleRate, pitchHz);
    const scale = amplitude / peakOf(voiced);
    for (let i = 0; i < samples; i++) pcm[offset + i] = Math.round(voiced[i]! * scale * 32767);
    words.push({ text: word, startMs: samplesToMs(offset, sampleRate), endMs: samplesToMs(offset + samples, sampleRate) });
    offset += samples + gapSamples;
  }
  return { pcm, words, durationMs: samplesToMs(total, sampleRate) };
}

/**
 * Splits text into the words {@link synthesizeSpeech} speaks: runs of non-whitespace, with a run that
 * has no letter or digit (a dash, an ellipsis) joined to the word before it.
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  for (const token of text.split(/\s+/u)) {
    if (token === '') continue;
    const previous = words.length - 1;
    if (previous >= 0 && !/[\p{L}\p{N}]/u.test(token)) words[previous] += ` ${token}`;
    else words.push(token);
  }
  return words;
}

/** `ms` of digital silence at `sampleRate`. */
export function silence(ms: number, sampleRate: number): Int16Array {
  return new Int16Array(msToSamples(ms, sampleRate));
}

/** The parts one after the other, as one new array. */
export function concatPcm(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** PCM16 samples as little-endian bytes, whatever the host's byte order. */
export function encodePcm16(pcm: Int16Array): Buffer {
  const bytes = Buffer.alloc(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) bytes.writeInt16LE(pcm[i]!, i * 2);
  return bytes;
}

/** Little-endian PCM16 bytes as samples. The byte length must be even. */
export function decodePcm16(bytes: Buffer): Int16Array {
  if (bytes.length % 2 !== 0) throw new RangeError('PCM16 data must have an even number of bytes');
  const pcm = new Int16Array(bytes.length / 2);
  for (let i = 0; i < pcm.length; i++) pcm[i] = bytes.readInt16LE(i * 2);
  return pcm;
}

/** A complete RIFF/WAVE file holding `pcm` as 16-bit mono PCM at `sampleRate`. */
export function encodeWav(pcm: Int16Array, sampleRate: number): Buffer {
  const header = Buffer.alloc(44);
  const dataBytes = pcm.length * 2;
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return Buffer.concat([header, encodePcm16(pcm)]);
}

/** The voiced part of one word, unscaled. */
function renderWord(word: string, hash: number, samples: number, sampleRate: number, pitchHz: number): Float64Array {
  const out = new Float64Array(samples);
  const vowels = vowelsOf(word);
  const twoSyllables = vowels.length > 1;
  // Each word gets its own pitch, inside ±35 Hz of the voice's centre, and falls gently across the
  // word (a rise for a question), the way a speaking voice declines through a phrase.
  const basePitch = pitchHz + ((hash % 71) - 35);
  const rising = /\?\W*$/u.test(word);
  const tables = vowels.slice(0, 2).map((vowel) => wavetable(vowel, basePitch, sampleRate));
  const attack = msToSamples(ATTACK_MS, sampleRate);
  const release = msToSamples(RELEASE_MS, sampleRate);
  const split = Math.round(samples * SYLLABLE_SPLIT);
  const halfJoin = msToSamples(SYLLABLE_JOIN_MS / 2, sampleRate);

  let phase = 0;
  for (let i = 0; i < samples; i++) {
    const progress = i / samples;
    const contour = rising ? 0.95 + 0.2 * progress : 1.05 - 0.1 * progress;
    const vibrato = 1 + VIBRATO_DEPTH * Math.sin((2 * Math.PI * VIBRATO_HZ * i) / sampleRate);
    phase += (basePitch * contour * vibrato) / sampleRate;
    phase -= Math.floor(phase);

    let sample = readTable(tables[0]!, phase);
    let level = 1;
    if (twoSyllables) {
      // Blend into the second vowel across the join, through a dip in loudness that marks the syllable.
      const along = (i - (split - halfJoin)) / (2 * halfJoin);
      const blend = along <= 0 ? 0 : along >= 1 ? 1 : along;
      if (blend > 0) sample = (1 - blend) * sample + blend * readTable(tables[1]!, phase);
      if (blend > 0 && blend < 1) level = 1 - SYLLABLE_DIP * Math.sin(Math.PI * blend);
    }
    out[i] = sample * level * ramp(i, attack) * ramp(samples - 1 - i, release);
  }
  return out;
}

/** One period of a voiced vowel at `pitch`: harmonics with a glottal-like tilt, weighted by the formants. */
function wavetable(formants: readonly [number, number, number], pitch: number, sampleRate: number): Float64Array {
  // Sized for the highest the contour goes, so no harmonic aliases even at 8 kHz.
  const ceiling = Math.min(MAX_HARMONIC_HZ, 0.45 * sampleRate);
  const harmonics = Math.max(1, Math.floor(ceiling / (pitch * PITCH_HEADROOM)));
  const amplitudes = Array.from({ length: harmonics }, (_, index) => {
    const k = index + 1;
    return formantGain(formants, k * pitch) / k ** SOURCE_TILT;
  });
  const table = new Float64Array(WAVETABLE_SIZE + 1);
  for (let j = 0; j < WAVETABLE_SIZE; j++) {
    // sin(k·θ) for k = 1, 2, … by the Chebyshev recurrence: one multiply per harmonic instead of a sine.
    const angle = (2 * Math.PI * j) / WAVETABLE_SIZE;
    const twoCos = 2 * Math.cos(angle);
    let previous = 0;
    let current = Math.sin(angle);
    let sum = 0;
    for (let index = 0; index < harmonics; index++) {
      sum += amplitudes[index]! * current;
      const next = twoCos * current - previous;
      previous = current;
      current = next;
    }
    table[j] = sum;
  }
  table[WAVETABLE_SIZE] = table[0]!; // guard point for interpolation
  return table;
}

function formantGain(formants: readonly [number, number, number], frequency: number): number {
  let gain = FORMANT_FLOOR;
  for (let f = 0; f < 3; f++) {
    const detune = (frequency - formants[f]!) / (FORMANT_BANDWIDTHS[f] / 2);
    gain += FORMANT_WEIGHTS[f] / (1 + detune * detune);
  }
  return gain;
}

function readTable(table: Float64Array, phase: number): number {
  const position = phase * WAVETABLE_SIZE;
  const index = Math.floor(position);
  const fraction = position - index;
  return table[index]! + fraction * (table[index + 1]! - table[index]!);
}

/** The formants for up to two syllables: one per group of vowel letters, a neutral vowel when there is none. */
function vowelsOf(word: string): (readonly [number, number, number])[] {
  const groups = word.toLowerCase().match(/[aeiouy]+/g) ?? [];
  const vowels = groups.slice(0, 2).map((group) => FORMANTS[group[0]!] ?? SCHWA);
  return vowels.length > 0 ? vowels : [SCHWA];
}

function pauseAfter(word: string, hash: number): number {
  if (/[.!?]["')\]]*$/u.test(word)) return SENTENCE_GAP_MS;
  if (/[,;:\u2013\u2014-]["')\]]*$/u.test(word)) return CLAUSE_GAP_MS;
  return WORD_GAP_MIN_MS + ((hash >>> 8) % (WORD_GAP_SPREAD_MS + 1));
}

/** A raised-cosine ramp from 0 to 1 over `length` samples, evaluated `distance` samples from its start. */
function ramp(distance: number, length: number): number {
  return distance >= length ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * distance) / length);
}

function peakOf(samples: Float64Array): number {
  let peak = 0;
  for (const sample of samples) peak = Math.max(peak, Math.abs(sample));
  return peak || 1;
}

/** FNV-1a: a small, stable hash that gives each word its own pitch and pause. */
function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function msToSamples(ms: number, sampleRate: number): number {
  return Math.round((ms * sampleRate) / 1000);
}

function samplesToMs(samples: number, sampleRate: number): number {
  return (samples * 1000) / sampleRate;
}
