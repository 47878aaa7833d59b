/**
 * The typed port protocol between the main thread and the worklets: the processor names and the
 * message types. The worklet builds inline it into their import-free files, so nothing here may
 * depend on worklet or DOM globals.
 */

/** Registered processor names (namespaced: `registerProcessor` throws on duplicates within a scope). */
export const CAPTURE_PROCESSOR = 'voice-agent-capture';
export const PLAYBACK_PROCESSOR = 'voice-agent-playback';

export interface CaptureOptions {
  /** Rate of the PCM16 frames sent to the server (the session's rate). */
  targetRate: number;
  /** Samples per outgoing frame at `targetRate` (20 ms = 480 at 24 kHz). */
  frameSamples: number;
  muted: boolean;
}
export type CaptureCommand = { type: 'mute'; muted: boolean } | { type: 'stats' };
export type CaptureOutput =
  /** One frame of mono PCM16 LE at `targetRate`, with its RMS level (0..1) before muting. */
  | { type: 'frame'; pcm: ArrayBuffer; rms: number }
  | ({ type: 'stats' } & WorkletLoad);

/** Time the processor spent in `process()`, from its own clock: ms per render quantum. */
export interface WorkletLoad {
  quanta: number;
  meanMs: number;
  maxMs: number;
}

export interface PlaybackOptions {
  /** Rate of the PCM16 chunks the server sends. */
  sourceRate: number;
  /** The smallest jitter buffer: playback starts once this much is queued (the adaptive buffer's floor). */
  prebufferMs: number;
  /** The largest the adaptive buffer grows to after late audio. */
  maxBufferMs: number;
  /** False: always wait for exactly `prebufferMs` (a fixed prebuffer). */
  adaptive: boolean;
  /** Ring size; audio beyond it is dropped and reported. */
  capacitySeconds: number;
  /** Without an `end`, a reply is over once its queue has been empty for this long. */
  replyGapMs: number;
}
export type PlaybackCommand =
  | { type: 'enqueue'; pcm: ArrayBuffer }
  /** Barge-in: drop everything queued; the current quantum fades out, the next one is silent. */
  | { type: 'clear' }
  /** The reply's audio is complete: play out what is queued without waiting for more. */
  | { type: 'end' }
  /** Answered with `mark` once everything enqueued before it has been rendered (dropped by `clear`). */
  | { type: 'mark'; id: number }
  | { type: 'stats' };
/** Sample counts are at the context rate. */
export type PlaybackOutput =
  /** A playing edge: sound starts, or stops (the reply played out, a barge-in, or an underrun). */
  | { type: 'state'; playing: boolean; underruns: number; targetMs: number }
  /**
   * `frame`: the context frame at which the clear took effect (from the next quantum on, silence);
   * `playedSamples`: what the interrupted reply had rendered (0 when none was in progress).
   */
  | { type: 'cleared'; droppedSamples: number; playedSamples: number; frame: number }
  /** A reply played out to its end: everything it queued was rendered. */
  | { type: 'reply'; playedSamples: number }
  | { type: 'mark'; id: number }
  /** The rendered level (RMS, 0..1) about every 20 ms while sound plays, and 0 when it stops. */
  | { type: 'level'; rms: number }
  /** Audio the ring had no room for, dropped: one report per command that dropped any. */
  | { type: 'overflow'; droppedSamples: number }
  | ({ type: 'stats'; underruns: number; targetMs: number; meanBufferedMs: number } & WorkletLoad);
