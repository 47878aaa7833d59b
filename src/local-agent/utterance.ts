/**
 * Builds what the agent says in one turn: synthesized speech (with the user's own audio echoed after
 * it) in a voice call, or text "typed" word by word in chat.
 */
import { audioChunkSamples } from './playback.js';
import type { Utterance } from './playback.js';
import { concatPcm, silence, splitWords } from './voice.js';
import type { SynthesizedSpeech } from './voice.js';

/** Chat replies are "typed" one word per this many ms. */
const CHAT_WORD_MS = 50;
const ECHO_PAUSE_MS = 250;

/** Audio from the user to play back after "You said:", and how to caption it. */
export interface Echo {
  label: string;
  pcm: Int16Array;
}

/** A spoken turn: the speech, then (in an echo reply) a pause and the user's own audio. */
export function spokenUtterance(speech: SynthesizedSpeech, sampleRate: number, echo: Echo | undefined): Utterance {
  const words = [...speech.words];
  const parts = [speech.pcm];
  if (echo) {
    const pause = silence(ECHO_PAUSE_MS, sampleRate);
    const startMs = ((speech.pcm.length + pause.length) * 1000) / sampleRate;
    words.push({ text: echo.label, startMs, endMs: startMs + (echo.pcm.length * 1000) / sampleRate });
    parts.push(pause, echo.pcm);
  }
  // Whole chunks only, so every audio delta is exactly 40 ms.
  const chunk = audioChunkSamples(sampleRate);
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  parts.push(new Int16Array((chunk - (length % chunk)) % chunk));
  const pcm = concatPcm(...parts);
  return { words, pcm, durationMs: (pcm.length * 1000) / sampleRate };
}

export function writtenUtterance(text: string): Utterance {
  const words = splitWords(text).map((word, index) => ({
    text: word,
    startMs: index * CHAT_WORD_MS,
    endMs: (index + 1) * CHAT_WORD_MS,
  }));
  return { words, pcm: undefined, durationMs: Math.max(0, words.length - 1) * CHAT_WORD_MS };
}
