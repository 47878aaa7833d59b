/**
 * The typed port protocol between the main thread and the worklets. Types only: `src/` imports it
 * with `import type`, so nothing here may depend on worklet or DOM globals.
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
export type CaptureCommand = { type: 'mute'; muted: boolean };
/** One frame of mono PCM16 LE at `targetRate`, with its RMS level (0..1) before muting. */
export type CaptureOutput = { type: 'frame'; pcm: ArrayBuffer; rms: number };

export interface PlaybackOptions {
  /** Rate of the PCM16 chunks the server sends. */
  sourceRate: number;
  /** Audio held back before playback starts, so network jitter does not cause gaps. */
  prebufferMs: number;
  /** Ring size; audio beyond it is dropped and reported. */
  capacitySeconds: number;
}
export type PlaybackCommand =
  | { type: 'enqueue'; pcm: ArrayBuffer }
  /** Barge-in: drop everything queued; the current quantum fades out, the next one is silent. */
  | { type: 'clear' };
export type PlaybackOutput =
  | { type: 'state'; playing: boolean; underruns: number }
  /** `frame`: the context frame at which the clear took effect; from the next quantum on, silence. */
  | { type: 'cleared'; droppedSamples: number; playedSamples: number; frame: number }
  | { type: 'overflow'; droppedSamples: number };
