/**
 * PCM16 chunks from the server → resampled to the context rate → adaptive jitter buffer → output.
 *
 * The buffer measures how late each chunk arrives against the earliest schedule seen in its reply,
 * and starts a reply (or resumes after running dry) that lateness plus a margin behind that
 * schedule: at least `prebufferMs`, at most `maxBufferMs`. Running dry grows it (past the lateness
 * that caused it); once the worst recent lateness falls, it shrinks slowly. Audio that arrives faster than realtime simply queues.
 *
 * Sound never starts or stops mid-waveform: each start fades in over one quantum, and when the queue
 * runs low inside a reply the quantum fades out and playback waits for more (an underrun), keeping
 * the few samples left. `clear` (barge-in) fades out the quantum being rendered and drops the rest.
 * Playing edges, per-reply played samples, marks and the rendered level go to the main thread.
 */
import { FloatRing } from './lib/float-ring.js';
import { pcm16ToFloat } from './lib/pcm16.js';
import { Resampler } from './lib/resampler.js';
import { LoadMeter } from './lib/load-meter.js';
import { assertNever } from './lib/assert-never.js';
import { PLAYBACK_PROCESSOR, type PlaybackCommand, type PlaybackOptions, type PlaybackOutput } from '../src/audio/worklet-messages.js';

/**
 * The lateness that counts is the worst of the last one to two windows of played audio; once it
 * falls, the wait follows it down with this half-life (also in played audio).
 */
const WINDOW_SECONDS = 5;
const SHRINK_HALF_LIFE_SECONDS = 2;
/** An underrun sets the wait this much above the lateness that caused it. */
const UNDERRUN_HEADROOM = 1.25;
/** Headroom above the worst lateness seen: one chunk's scheduling slack. */
const MARGIN_SECONDS = 0.01;
const LEVEL_SECONDS = 0.02;
/** The least an underrun grows the buffer by. */
const STEP_SECONDS = 0.02;
const CHUNK = 1024;
const QUANTUM = 128;

class PlaybackProcessor extends AudioWorkletProcessor implements AudioWorkletProcessorImpl {
  private readonly _ring: FloatRing;
  private readonly _resampler: Resampler;
  private readonly _source = new Float32Array(CHUNK);
  private readonly _resampled: Float32Array;
  private readonly _floor: number;
  private readonly _ceiling: number;
  private readonly _adaptive: boolean;
  private readonly _replyGap: number;
  private readonly _margin = MARGIN_SECONDS * sampleRate;
  private readonly _decay = Math.pow(0.5, QUANTUM / (SHRINK_HALF_LIFE_SECONDS * sampleRate));
  private readonly _fade = new Float32Array(QUANTUM);
  private readonly _load = new LoadMeter();
  /** What the buffer must absorb, in frames: the recent worst lateness, shrinking slowly. */
  private _jitter = 0;
  /** Worst lateness in the current window of played audio, and in the one before; the window's end. */
  private _peak = 0;
  private _lastPeak = 0;
  private _windowEnd = 0;
  private _fadeLength = 0;
  private _playing = false;
  private _fadeIn = false;
  private _inReply = false;
  private _ended = false;
  /** The frame at which a reply in progress ran dry, or -1. */
  private _starvedAt = -1;
  private _replyPlayed = 0;
  /** Frames since audio last arrived, counted while not playing. */
  private _quietFrames = 0;
  private _underruns = 0;
  /** Totals at the context rate: everything written to and read from the ring. */
  private _written = 0;
  private _read = 0;
  /** Arrival frame of the reply's media position 0 on its earliest schedule, and that position. */
  private _anchor = 0;
  private _media = 0;
  private readonly _markIds: number[] = [];
  private readonly _markAt: number[] = [];
  private _levelSum = 0;
  private _levelFrames = 0;
  private _bufferedSum = 0;
  private _bufferedQuanta = 0;
  /** Frames the ring had no room for, while a command is handled: reported once per command. */
  private _dropped = 0;

  constructor(options: { processorOptions: PlaybackOptions }) {
    super();
    const { sourceRate, prebufferMs, maxBufferMs, adaptive, capacitySeconds, replyGapMs } = options.processorOptions;
    this._ring = new FloatRing(Math.ceil(capacitySeconds * sampleRate));
    this._resampler = new Resampler(sourceRate, sampleRate);
    this._resampled = new Float32Array(this._resampler.maxOutput(CHUNK));
    this._floor = Math.round((prebufferMs / 1000) * sampleRate);
    this._replyGap = Math.round((replyGapMs / 1000) * sampleRate);
    this._ceiling = Math.max(this._floor, Math.round((maxBufferMs / 1000) * sampleRate));
    this._adaptive = adaptive;
    this.port.onmessage = (event: MessageEvent<PlaybackCommand>) => this._handleCommand(event.data);
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    this._load.begin();
    const output = outputs[0];
    const out = output[0];
    if (out) {
      this._render(out);
      for (let c = 1; c < output.length; c++) output[c].set(out);
    }
    this._load.end();
    return true;
  }

  /** Frames to hold before starting: the lateness seen plus a margin, within the bounds. */
  private _target(): number {
    return this._adaptive ? Math.min(this._ceiling, Math.max(this._floor, this._jitter + this._margin)) : this._floor;
  }

  private _render(out: Float32Array): void {
    if (this._fadeLength > 0) return this._renderFadeOut(out);
    const ring = this._ring;
    if (!this._playing) {
      this._quietFrames += out.length;
      const queued = ring.available;
      const target = this._target();
      const stalled = this._starvedAt >= 0;
      // Adaptive: play once the next sample is `target` behind its earliest schedule, however little
      // is queued (a realtime stream then holds the target minus its lateness, not the target).
      // Fixed: once `target` is queued, or nothing more has come for as long (a short reply). The few
      // samples a stalled reply kept wait for the rest of it.
      const due = this._adaptive ? currentFrame - this._anchor - this._replyPlayed >= target : this._quietFrames >= target;
      if (queued > 0 && (this._ended || (!stalled && (queued >= target || due)))) {
        this._setPlaying(true);
        this._fadeIn = true;
      } else {
        if ((queued === 0 || stalled) && this._inReply && this._quietFrames >= this._replyGap) {
          // Never ended: the less-than-a-quantum it kept and the resampler's last millisecond go,
          // rather than sound a second late or at the start of the next reply.
          ring.clear();
          this._resampler.reset();
          this._read = this._written;
          this._finishReply();
        }
        out.fill(0);
        return;
      }
    }
    const n = ring.read(out);
    out.fill(0, n);
    this._jitter = Math.max(this._peak, this._lastPeak, this._jitter * this._decay);
    this._read += n;
    this._replyPlayed += n;
    if (this._fadeIn) {
      for (let i = 0; i < n; i++) out[i] *= i / n;
      this._fadeIn = false;
    }
    const left = ring.available;
    this._bufferedSum += left;
    this._bufferedQuanta++;
    // Running dry: fade out rather than stop mid-waveform. Inside a reply, keep the last samples
    // (under one quantum) for when more audio arrives.
    const done = this._ended ? left === 0 : left < out.length;
    if (done) for (let i = 0; i < n; i++) out[i] *= 1 - i / n;
    this._meter(out, n);
    while (this._markAt.length > 0 && this._markAt[0] <= this._read) {
      this._markAt.shift();
      this._post({ type: 'mark', id: this._markIds.shift()! });
    }
    if (done) {
      this._setPlaying(false);
      if (this._ended) this._finishReply();
      else this._starvedAt = currentFrame;
    }
  }

  /** Renders the audio saved by `clear()` with a linear fade to silence. */
  private _renderFadeOut(out: Float32Array): void {
    const n = Math.min(this._fadeLength, out.length);
    for (let i = 0; i < n; i++) out[i] = this._fade[i] * (1 - i / n);
    out.fill(0, n);
    this._fadeLength = 0;
  }

  private _meter(out: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) this._levelSum += out[i] * out[i];
    this._levelFrames += out.length;
    if (this._levelFrames >= LEVEL_SECONDS * sampleRate) {
      this._post({ type: 'level', rms: Math.sqrt(this._levelSum / this._levelFrames) });
      this._levelSum = this._levelFrames = 0;
    }
  }

  private _handleCommand(command: PlaybackCommand): void {
    switch (command.type) {
      case 'enqueue':
        this._enqueue(new Int16Array(command.pcm));
        break;
      case 'clear':
        this._clear();
        break;
      case 'end':
        this._ended = this._inReply;
        if (!this._ended) break;
        // The resampler holds the reply's last millisecond: push it out with silence, start afresh.
        this._write(this._source.fill(0, 0, this._resampler.halfWidth).subarray(0, this._resampler.halfWidth));
        this._resampler.reset();
        if (!this._playing && this._ring.available === 0) this._finishReply();
        break;
      case 'mark':
        if (this._written <= this._read) this._post({ type: 'mark', id: command.id });
        else {
          this._markIds.push(command.id);
          this._markAt.push(this._written);
        }
        break;
      case 'stats': {
        const buffered = this._bufferedQuanta ? this._bufferedSum / this._bufferedQuanta : 0;
        this._post({
          type: 'stats',
          underruns: this._underruns,
          targetMs: (this._target() / sampleRate) * 1000,
          meanBufferedMs: (buffered / sampleRate) * 1000,
          ...this._load.read(),
        });
        break;
      }
      default:
        assertNever(command);
    }
    if (this._dropped > 0) {
      this._post({ type: 'overflow', droppedSamples: this._dropped });
      this._dropped = 0;
    }
  }

  private _enqueue(pcm: Int16Array): void {
    if (!this._inReply) {
      this._inReply = true;
      this._ended = false;
      this._replyPlayed = this._media = 0;
      this._anchor = currentFrame;
    }
    // How late this chunk is against the earliest schedule seen in this reply: the buffer must hold
    // that much to play it on time.
    const late = currentFrame - this._anchor - this._media;
    if (late < 0) this._anchor += late;
    let need = late;
    if (this._starvedAt >= 0) {
      // More audio for a reply that ran dry: an underrun. Wait longer from now on, with headroom.
      this._underruns++;
      this._starvedAt = -1;
      need = Math.max(need * UNDERRUN_HEADROOM, this._target() - this._margin + STEP_SECONDS * sampleRate);
    }
    if (this._read >= this._windowEnd) {
      this._lastPeak = this._peak;
      this._peak = 0;
      this._windowEnd = this._read + WINDOW_SECONDS * sampleRate;
    }
    if (this._adaptive && need > this._peak) this._peak = Math.min(need, this._ceiling);
    if (this._peak > this._jitter) this._jitter = this._peak;
    this._quietFrames = 0;
    for (let offset = 0; offset < pcm.length; offset += CHUNK) {
      const part = pcm.subarray(offset, offset + CHUNK);
      const source = part.length === CHUNK ? this._source : this._source.subarray(0, part.length);
      pcm16ToFloat(part, source);
      this._write(source);
    }
  }

  /** Resamples `source` into the ring; what does not fit is dropped, and reported with the command. */
  private _write(source: Float32Array): void {
    const n = this._resampler.process(source, this._resampled);
    const written = this._ring.write(this._resampled, n);
    this._written += written;
    this._media += n;
    this._dropped += n - written;
  }

  private _clear(): void {
    const droppedSamples = this._ring.available;
    this._resampler.reset();
    // Keep one quantum to fade out instead of cutting mid-waveform (a click); drop the rest now,
    // so audio of the next reply that arrives before the fade is rendered is not lost with it.
    this._fadeLength = this._playing ? this._ring.read(this._fade) : 0;
    this._ring.clear();
    this._read = this._written;
    this._markIds.length = this._markAt.length = 0;
    const playedSamples = this._inReply ? this._replyPlayed : 0;
    this._inReply = this._ended = false;
    this._starvedAt = -1;
    this._quietFrames = 0;
    this._setPlaying(false);
    this._post({ type: 'cleared', droppedSamples, playedSamples, frame: currentFrame });
  }

  private _finishReply(): void {
    this._inReply = this._ended = false;
    this._starvedAt = -1;
    this._post({ type: 'reply', playedSamples: this._replyPlayed });
  }

  private _setPlaying(playing: boolean): void {
    if (this._playing === playing) return;
    this._playing = playing;
    if (!playing) {
      this._levelSum = this._levelFrames = 0;
      this._post({ type: 'level', rms: 0 });
    }
    this._post({ type: 'state', playing, underruns: this._underruns, targetMs: (this._target() / sampleRate) * 1000 });
  }

  private _post(message: PlaybackOutput): void {
    this.port.postMessage(message);
  }
}

registerProcessor(PLAYBACK_PROCESSOR, PlaybackProcessor);
