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
  private readonly ring: FloatRing;
  private readonly resampler: Resampler;
  private readonly source = new Float32Array(CHUNK);
  private readonly resampled: Float32Array;
  private readonly prebuffer: number;
  private readonly fade = new Float32Array(QUANTUM);
  private fadeLength = 0;
  private playing = false;
  private quietFrames = 0;
  private starvedAt = -1;
  private underruns = 0;
  private playedSamples = 0;

  constructor(options: { processorOptions: PlaybackOptions }) {
    super();
    const { sourceRate, prebufferMs, capacitySeconds } = options.processorOptions;
    this.ring = new FloatRing(Math.ceil(capacitySeconds * sampleRate));
    this.resampler = new Resampler(sourceRate, sampleRate);
    this.resampled = new Float32Array(this.resampler.maxOutput(CHUNK));
    this.prebuffer = Math.round((prebufferMs / 1000) * sampleRate);
    this.port.onmessage = (event: MessageEvent<PlaybackCommand>) => this.handleCommand(event.data);
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const output = outputs[0];
    const out = output[0];
    if (!out) return true;
    if (this.fadeLength > 0) {
      this.renderFadeOut(out);
    } else {
      if (!this.playing) {
        this.quietFrames += out.length;
        const ready = this.ring.available >= this.prebuffer || (this.ring.available > 0 && this.quietFrames >= this.prebuffer);
        if (ready) this.setPlaying(true);
      }
      if (this.playing) {
        const n = this.ring.read(out);
        this.playedSamples += n;
        if (n < out.length) {
          out.fill(0, n);
          this.starvedAt = currentFrame;
          this.setPlaying(false);
        }
      } else {
        out.fill(0);
      }
    }
    for (let c = 1; c < output.length; c++) output[c].set(out);
    return true;
  }

  /** Renders the audio saved by `clear()` with a linear fade to silence. */
  private renderFadeOut(out: Float32Array): void {
    const n = Math.min(this.fadeLength, out.length);
    for (let i = 0; i < n; i++) out[i] = this.fade[i] * (1 - i / n);
    out.fill(0, n);
    this.fadeLength = 0;
  }

  private handleCommand(command: PlaybackCommand): void {
    switch (command.type) {
      case 'enqueue':
        this.enqueue(new Int16Array(command.pcm));
        break;
      case 'clear':
        this.clear();
        break;
      default:
        assertNever(command);
    }
  }

  private enqueue(pcm: Int16Array): void {
    if (this.starvedAt >= 0 && currentFrame - this.starvedAt < UNDERRUN_WINDOW_SECONDS * sampleRate) {
      this.underruns++;
    }
    this.starvedAt = -1;
    this.quietFrames = 0;
    let dropped = 0;
    for (let offset = 0; offset < pcm.length; offset += CHUNK) {
      const part = pcm.subarray(offset, offset + CHUNK);
      const source = part.length === CHUNK ? this.source : this.source.subarray(0, part.length);
      pcm16ToFloat(part, source);
      const n = this.resampler.process(source, this.resampled);
      dropped += n - this.ring.write(this.resampled, n);
    }
    if (dropped > 0) this.post({ type: 'overflow', droppedSamples: dropped });
  }

  private clear(): void {
    const droppedSamples = this.ring.available;
    this.resampler.reset();
    this.starvedAt = -1;
    this.quietFrames = 0;
    // Keep one quantum to fade out instead of cutting mid-waveform (a click); drop the rest now,
    // so audio of the next reply that arrives before the fade is rendered is not lost with it.
    this.fadeLength = this.playing ? this.ring.read(this.fade) : 0;
    this.ring.clear();
    this.setPlaying(false);
    this.post({ type: 'cleared', droppedSamples, playedSamples: this.playedSamples, frame: currentFrame });
  }

  private setPlaying(playing: boolean): void {
    if (this.playing === playing) return;
    this.playing = playing;
    this.post({ type: 'state', playing, underruns: this.underruns });
  }

  private post(message: PlaybackOutput): void {
    this.port.postMessage(message);
  }
}

registerProcessor(PLAYBACK_PROCESSOR, PlaybackProcessor);
