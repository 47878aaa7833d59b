/**
 * Delivery of one agent utterance: audio in 40 ms chunks paced ahead of realtime, cumulative captions
 * timed word by word, the final transcript, and on cancel the text the listener has heard so far.
 */
import { timestamp } from './protocol.js';
import type { ServerEvent } from './protocol.js';
import { encodePcm16 } from './voice.js';
import type { SpokenWord } from './voice.js';

const AUDIO_CHUNK_MS = 40;
/** Audio goes out at twice realtime after a small lead: ahead of playback, yet never far enough that a barge-in has much to cut. */
const AUDIO_PACING = 2;
const AUDIO_LEAD_MS = 120;
const TICK_MS = 20;

/** One agent turn to deliver: its words with their times and, in voice calls, its audio. */
export interface Utterance {
  words: readonly SpokenWord[];
  pcm: Int16Array | undefined;
  durationMs: number;
}

export interface PlaybackSink {
  send(event: ServerEvent): void;
  audioSent(ms: number): void;
  finished(): void;
}

/**
 * Delivers one agent turn: `agent_start_talking`, audio in 40 ms chunks at twice realtime, cumulative
 * captions that follow the realtime playback position word by word, then the final transcript and
 * `agent_stop_talking` once the whole turn would have been heard.
 */
export class Playback {
  private readonly chunkSamples: number;
  private startedAt = 0;
  private samplesSent = 0;
  private wordsShown = 0;
  private timer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    private readonly utterance: Utterance,
    private readonly sampleRate: number,
    private readonly sink: PlaybackSink,
  ) {
    this.chunkSamples = audioChunkSamples(sampleRate);
  }

  start(): void {
    this.startedAt = performance.now();
    this.sink.send({ type: 'agent_start_talking', timestamp: timestamp() });
    this.tick();
    if (!this.done) this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Stops at once and returns what the listener has heard: the words begun by now in realtime. */
  cancel(): string {
    this.stop();
    const elapsed = performance.now() - this.startedAt;
    return textOf(this.utterance.words.filter((word) => word.startMs <= elapsed));
  }

  private tick(): void {
    const elapsed = performance.now() - this.startedAt;
    this.sendAudio(elapsed);
    this.showWords(elapsed);
    const { words, pcm, durationMs } = this.utterance;
    const allSent = this.wordsShown === words.length && this.samplesSent === (pcm?.length ?? 0);
    if (!allSent || elapsed < durationMs) return;
    this.stop();
    this.sink.send({ type: 'transcript', role: 'assistant', text: textOf(words) });
    this.sink.send({ type: 'agent_stop_talking', timestamp: timestamp() });
    this.sink.finished();
  }

  private sendAudio(elapsedMs: number): void {
    const { pcm } = this.utterance;
    if (!pcm) return;
    const due = Math.min(pcm.length, Math.round(((AUDIO_LEAD_MS + AUDIO_PACING * elapsedMs) * this.sampleRate) / 1000));
    while (this.samplesSent < due) {
      const chunk = pcm.subarray(this.samplesSent, this.samplesSent + this.chunkSamples);
      this.samplesSent += chunk.length;
      this.sink.send({ type: 'output_audio.delta', audio: encodePcm16(chunk).toString('base64') });
      this.sink.audioSent((chunk.length * 1000) / this.sampleRate);
    }
  }

  private showWords(elapsedMs: number): void {
    const { words } = this.utterance;
    let shown = this.wordsShown;
    while (shown < words.length && words[shown]!.startMs <= elapsedMs) shown++;
    if (shown === this.wordsShown) return;
    this.wordsShown = shown;
    this.sink.send({ type: 'transcript.delta', role: 'assistant', text: textOf(words.slice(0, shown)) });
  }

  private stop(): void {
    this.done = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

export function audioChunkSamples(sampleRate: number): number {
  return Math.round((AUDIO_CHUNK_MS * sampleRate) / 1000);
}

function textOf(words: readonly SpokenWord[]): string {
  return words.map((word) => word.text).join(' ');
}
