/**
 * Sums for the lag-one autocorrelation of a stream of frames: `energy` Σx², `lagged` Σx[n]·x[n−1].
 * Their ratio is near 1 for voice (its energy sits far below the Nyquist frequency) and near 0 for
 * white noise, which is what speech turns into when its bytes are swapped.
 */
export interface CorrelationSums {
  energy: number;
  lagged: number;
}

/** Adds one frame to `sums` (frames are taken as contiguous within themselves). */
export function addCorrelation(sums: CorrelationSums, frame: Int16Array): void {
  for (let i = 1; i < frame.length; i++) {
    sums.energy += frame[i]! * frame[i]!;
    sums.lagged += frame[i]! * frame[i - 1]!;
  }
}

/**
 * An energy-based turn detector: decides from PCM16 frames when a user starts talking and when their
 * turn is over, and keeps what they said. Pure and synchronous (time is the audio's own time, never the
 * clock), so a recording always gives the same turns however fast it is fed.
 */

/** Settings for {@link TurnDetector}. */
export interface TurnDetectorOptions {
  /** Sample rate of the frames, in Hz. */
  sampleRate: number;
  /** Frame RMS (samples normalised to [-1, 1]) at or above which a frame counts as speech. Default 0.02. */
  threshold?: number;
  /** Loud audio needed, without a quiet frame in between, before speech is said to start. Default 60 ms. */
  onsetMs?: number;
  /** Quiet audio that ends a turn. Default 600 ms. */
  silenceMs?: number;
  /** Audio kept from before the onset, so the captured speech does not start mid-syllable. Default 100 ms. */
  preRollMs?: number;
  /** The most audio one turn keeps (pre-roll included); longer speech is still timed but not kept. Default 15 s. */
  maxCaptureMs?: number;
}

/** What {@link TurnDetector.push} reports. */
export type TurnEvent =
  | { type: 'speech-start' }
  | {
      type: 'speech-end';
      /** From the onset to the end of the last loud frame, in ms. */
      durationMs: number;
      /** The turn's audio: pre-roll, speech, and up to `preRollMs` of the silence after it. */
      audio: Int16Array;
    };

interface Frame {
  readonly samples: Int16Array;
  readonly ms: number;
}

/** Normalised RMS of a PCM16 frame, in [0, 1]; 0 for an empty frame. */
export function frameRms(frame: Int16Array): number {
  if (frame.length === 0) return 0;
  let sum = 0;
  for (const sample of frame) sum += sample * sample;
  return Math.sqrt(sum / frame.length) / 32768;
}

/**
 * Finds user turns in a stream of PCM16 frames by their energy: speech starts after `onsetMs` of
 * consecutive frames at or above `threshold` and ends (the turn is committed) after `silenceMs` of
 * frames below it. Frames may have any length.
 */
export class TurnDetector {
  private readonly sampleRate: number;
  private readonly threshold: number;
  private readonly onsetMs: number;
  private readonly silenceMs: number;
  private readonly preRollMs: number;
  private readonly captureLimit: number;

  /** In a turn: audio is captured until enough silence ends it. Between turns only the pre-roll is kept. */
  private inTurn = false;
  /** Frames before the current onset candidate, trimmed to about `preRollMs`. */
  private history: Frame[] = [];
  private historyMs = 0;
  /** The loud frames of a possible onset. */
  private onsetFrames: Frame[] = [];
  private onsetFramesMs = 0;
  private capture = new Int16Array(0);
  private captured = 0;
  /** `captured` at the end of the last loud frame. */
  private capturedAtLastLoud = 0;
  private sinceOnsetMs = 0;
  private lastLoudMs = 0;
  private quietMs = 0;
  private maxRmsSeen = 0;

  constructor(options: TurnDetectorOptions) {
    const { sampleRate, threshold = 0.02, onsetMs = 60, silenceMs = 600, preRollMs = 100, maxCaptureMs = 15_000 } = options;
    if (!(Number.isInteger(sampleRate) && sampleRate > 0)) throw new RangeError(`sampleRate must be a positive integer (got ${sampleRate})`);
    if (!(threshold > 0 && threshold < 1)) throw new RangeError(`threshold must be in (0, 1) (got ${threshold})`);
    for (const [name, value] of Object.entries({ onsetMs, silenceMs, preRollMs, maxCaptureMs })) {
      if (!(value >= 0 && Number.isFinite(value))) throw new RangeError(`${name} must be a finite number ≥ 0 (got ${value})`);
    }
    this.sampleRate = sampleRate;
    this.threshold = threshold;
    this.onsetMs = onsetMs;
    this.silenceMs = silenceMs;
    this.preRollMs = preRollMs;
    this.captureLimit = Math.round((maxCaptureMs * sampleRate) / 1000);
  }

  /** The loudest frame RMS seen so far, normalised to [0, 1]. */
  get maxRms(): number {
    return this.maxRmsSeen;
  }

  /** Whether a turn is in progress (speech has started and has not yet ended). */
  get speaking(): boolean {
    return this.inTurn;
  }

  /** Length of the turn in progress so far (onset to the end of its last loud frame), in ms; 0 between turns. */
  get speechMs(): number {
    return this.inTurn ? this.lastLoudMs : 0;
  }

  /** Feeds the next frame and returns what it changed: nothing, a `speech-start`, or a `speech-end`. */
  push(samples: Int16Array): TurnEvent[] {
    const frame: Frame = { samples, ms: (samples.length * 1000) / this.sampleRate };
    const rms = frameRms(samples);
    this.maxRmsSeen = Math.max(this.maxRmsSeen, rms);
    const loud = rms >= this.threshold;

    if (this.inTurn) return this.continueTurn(frame, loud);
    if (!loud) {
      // A loud run too short to be speech (a click, a cough) becomes ordinary history.
      this.remember(...this.onsetFrames, frame);
      this.onsetFrames = [];
      this.onsetFramesMs = 0;
      return [];
    }
    this.onsetFrames.push(frame);
    this.onsetFramesMs += frame.ms;
    if (this.onsetFramesMs < this.onsetMs) return [];
    this.beginTurn();
    return [{ type: 'speech-start' }];
  }

  private beginTurn(): void {
    this.inTurn = true;
    this.capture = new Int16Array(0);
    this.captured = 0;
    for (const frame of this.history) this.append(frame.samples);
    for (const frame of this.onsetFrames) this.append(frame.samples);
    this.capturedAtLastLoud = this.captured;
    this.sinceOnsetMs = this.onsetFramesMs;
    this.lastLoudMs = this.onsetFramesMs;
    this.quietMs = 0;
    this.history = [];
    this.historyMs = 0;
    this.onsetFrames = [];
    this.onsetFramesMs = 0;
  }

  private continueTurn(frame: Frame, loud: boolean): TurnEvent[] {
    this.append(frame.samples);
    this.sinceOnsetMs += frame.ms;
    if (loud) {
      this.lastLoudMs = this.sinceOnsetMs;
      this.capturedAtLastLoud = this.captured;
      this.quietMs = 0;
      return [];
    }
    this.quietMs += frame.ms;
    if (this.quietMs < this.silenceMs) return [];

    const tail = Math.round((this.preRollMs * this.sampleRate) / 1000);
    const audio = this.capture.slice(0, Math.min(this.captured, this.capturedAtLastLoud + tail));
    const durationMs = this.lastLoudMs;
    this.inTurn = false;
    this.capture = new Int16Array(0);
    this.captured = 0;
    this.lastLoudMs = 0;
    return [{ type: 'speech-end', durationMs, audio }];
  }

  /** Adds quiet frames to the pre-roll, keeping just enough of the newest to cover `preRollMs`. */
  private remember(...frames: Frame[]): void {
    for (const frame of frames) {
      this.history.push(frame);
      this.historyMs += frame.ms;
    }
    while (this.history.length > 0 && this.historyMs - this.history[0]!.ms >= this.preRollMs) {
      this.historyMs -= this.history.shift()!.ms;
    }
  }

  /** Appends to the capture buffer (growing it by doubling) up to the capture limit. */
  private append(samples: Int16Array): void {
    const count = Math.min(samples.length, this.captureLimit - this.captured);
    if (count <= 0) return;
    if (this.captured + count > this.capture.length) {
      const grown = new Int16Array(Math.min(this.captureLimit, Math.max(this.captured + count, this.capture.length * 2)));
      grown.set(this.capture.subarray(0, this.captured));
      this.capture = grown;
    }
    this.capture.set(samples.subarray(0, count), this.captured);
    this.captured += count;
  }
}
