/**
 * PCM16 chunks from the server → resampled to the context rate → ring buffer → output.
 *
 * Playback starts once `prebufferMs` is queued (or once no more audio has arrived for that long, so a
 * short reply still plays). `clear` (barge-in) fades out the quantum being rendered and drops the rest:
 * the agent is silent from the next render quantum on.
 */
import { FloatRing } from './lib/float-ring.js';
import { pcm16ToFloat } from './lib/pcm16.js';
import { Resampler } from './lib/resampler.js';
import { assertNever } from './lib/assert-never.js';
import {
  PLAYBACK_PROCESSOR,
  type PlaybackCommand,
  type PlaybackOptions,
  type PlaybackOutput,
} from './messages.js';

/** A gap shorter than this between two chunks of one reply counts as an underrun, not as the reply's end. */
const UNDERRUN_WINDOW_SECONDS = 0.5;
const CHUNK = 1024;
const QUANTUM = 128;

class PlaybackProcessor extends AudioWorkletProcessor implements AudioWorkletProcessorImpl {
  private readonly _ring: FloatRing;
  private readonly _resampler: Resampler;
  private readonly _source = new Float32Array(CHUNK);
  private readonly _resampled: Float32Array;
  private readonly _prebuffer: number;
  private readonly _fade = new Float32Array(QUANTUM);
  private _fadeLength = 0;
  private _playing = false;
  private _quietFrames = 0;
  private _starvedAt = -1;
  private _underruns = 0;
  private _playedSamples = 0;

  constructor(options: { processorOptions: PlaybackOptions }) {
    super();
    const { sourceRate, prebufferMs, capacitySeconds } = options.processorOptions;
    this._ring = new FloatRing(Math.ceil(capacitySeconds * sampleRate));
    this._resampler = new Resampler(sourceRate, sampleRate);
    this._resampled = new Float32Array(this._resampler.maxOutput(CHUNK));
    this._prebuffer = Math.round((prebufferMs / 1000) * sampleRate);
    this.port.onmessage = (event: MessageEvent<PlaybackCommand>) => this._handleCommand(event.data);
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const output = outputs[0];
    const out = output[0];
    if (!out) return true;
    if (this._fadeLength > 0) {
      this._renderFadeOut(out);
    } else {
      if (!this._playing) {
        this._quietFrames += out.length;
        const ready = this._ring.available >= this._prebuffer || (this._ring.available > 0 && this._quietFrames >= this._prebuffer);
        if (ready) this._setPlaying(true);
      }
      if (this._playing) {
        const n = this._ring.read(out);
        this._playedSamples += n;
        if (n < out.length) {
          out.fill(0, n);
          this._starvedAt = currentFrame;
          this._setPlaying(false);
        }
      } else {
        out.fill(0);
      }
    }
    for (let c = 1; c < output.length; c++) output[c].set(out);
    return true;
  }

  /** Renders the audio saved by `clear()` with a linear fade to silence. */
  private _renderFadeOut(out: Float32Array): void {
    const n = Math.min(this._fadeLength, out.length);
    for (let i = 0; i < n; i++) out[i] = this._fade[i] * (1 - i / n);
    out.fill(0, n);
    this._fadeLength = 0;
  }

  private _handleCommand(command: PlaybackCommand): void {
    switch (command.type) {
      case 'enqueue':
        this._enqueue(new Int16Array(command.pcm));
        break;
      case 'clear':
        this._clear();
        break;
      default:
        assertNever(command);
    }
  }

  private _enqueue(pcm: Int16Array): void {
    if (this._starvedAt >= 0 && currentFrame - this._starvedAt < UNDERRUN_WINDOW_SECONDS * sampleRate) {
      this._underruns++;
    }
    this._starvedAt = -1;
    this._quietFrames = 0;
    let dropped = 0;
    for (let offset = 0; offset < pcm.length; offset += CHUNK) {
      const part = pcm.subarray(offset, offset + CHUNK);
      const source = part.length === CHUNK ? this._source : this._source.subarray(0, part.length);
      pcm16ToFloat(part, source);
      const n = this._resampler.process(source, this._resampled);
      dropped += n - this._ring.write(this._resampled, n);
    }
    if (dropped > 0) this._post({ type: 'overflow', droppedSamples: dropped });
  }

  private _clear(): void {
    const droppedSamples = this._ring.available;
    this._resampler.reset();
    this._starvedAt = -1;
    this._quietFrames = 0;
    // Keep one quantum to fade out instead of cutting mid-waveform (a click); drop the rest now,
    // so audio of the next reply that arrives before the fade is rendered is not lost with it.
    this._fadeLength = this._playing ? this._ring.read(this._fade) : 0;
    this._ring.clear();
    this._setPlaying(false);
    this._post({ type: 'cleared', droppedSamples, playedSamples: this._playedSamples, frame: currentFrame });
  }

  private _setPlaying(playing: boolean): void {
    if (this._playing === playing) return;
    this._playing = playing;
    this._post({ type: 'state', playing, underruns: this._underruns });
  }

  private _post(message: PlaybackOutput): void {
    this.port.postMessage(message);
  }
}

registerProcessor(PLAYBACK_PROCESSOR, PlaybackProcessor);
