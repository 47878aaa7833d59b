/**
 * Generated test fixtures (written to test/.generated/, never committed): the fake microphone's WAV
 * file, made with the same synthetic voice the local agent speaks with.
 *
 * speech-loop.wav (48 kHz mono, loops in Chromium): 2 s of silence, a spoken phrase, then silence
 * up to 6 s, so every test that listens hears the phrase within 6 s, followed by a clear turn end.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { synthesizeSpeech, encodeWav } from '../../dist/local-agent/index.js';

export const SPEECH_PHRASE = 'Hello agent, please repeat this.';
const RATE = 48000;
const LOOP_SECONDS = 6;
const LEAD_SECONDS = 2;

export async function ensureFixtures(root) {
  const dir = `${root}test/.generated`;
  mkdirSync(dir, { recursive: true });
  const speechLoop = `${dir}/speech-loop.wav`;
  if (!existsSync(speechLoop)) {
    const { pcm } = synthesizeSpeech(SPEECH_PHRASE, RATE);
    const loop = new Int16Array(RATE * LOOP_SECONDS);
    loop.set(pcm.subarray(0, loop.length - RATE * LEAD_SECONDS), RATE * LEAD_SECONDS);
    writeFileSync(speechLoop, encodeWav(loop, RATE));
  }
  return { speechLoop };
}
