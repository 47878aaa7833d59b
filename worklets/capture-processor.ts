/**
 * Microphone → mono → resampled to the session rate → fixed-size PCM16 frames, posted (transferred)
 * to the main thread. Runs at whatever rate the AudioContext has; allocates only the outgoing frame.
 */
import { floatToPcm16, rms } from './lib/pcm16.js';
import { Resampler } from './lib/resampler.js';
import { LoadMeter } from './lib/load-meter.js';
import { assertNever } from './lib/assert-never.js';
import { CAPTURE_PROCESSOR, type CaptureCommand, type CaptureOptions, type CaptureOutput } from '../src/audio/worklet-messages.js';

const QUANTUM = 128;

class CaptureProcessor extends AudioWorkletProcessor implements AudioWorkletProcessorImpl {
  private _muted: boolean;
  private _filled = 0;
  private readonly _resampler: Resampler;
  private readonly _mono = new Float32Array(QUANTUM);
  private readonly _resampled: Float32Array;
  private readonly _frame: Float32Array;
  private readonly _load = new LoadMeter();

  constructor(options: { processorOptions: CaptureOptions }) {
    super();
    const { targetRate, frameSamples, muted } = options.processorOptions;
    this._muted = muted;
    this._resampler = new Resampler(sampleRate, targetRate);
    this._resampled = new Float32Array(this._resampler.maxOutput(QUANTUM));
    this._frame = new Float32Array(frameSamples);
    this.port.onmessage = (event: MessageEvent<CaptureCommand>) => this._handleCommand(event.data);
  }

  process(inputs: Float32Array[][]): boolean {
    this._load.begin();
    const channels = inputs[0];
    const { _mono: mono } = this;
    let length = QUANTUM;
    if (!channels || channels.length === 0) {
      // An input without channels is silence: Firefox delivers a disabled (muted) track this way.
      // The frames keep coming, so the agent hears the silence and can end the user's turn.
      mono.fill(0);
    } else if (channels.length === 1) {
      length = Math.min(channels[0].length, QUANTUM);
      const channel = channels[0];
      for (let i = 0; i < length; i++) mono[i] = channel[i];
    } else {
      length = Math.min(channels[0].length, QUANTUM);
      const gain = 1 / channels.length;
      for (let i = 0; i < length; i++) {
        let sum = 0;
        for (let c = 0; c < channels.length; c++) sum += channels[c][i];
        mono[i] = sum * gain;
      }
    }
    // Render quanta are 128 frames today; a shorter one (a future render size) takes the rare view.
    const n = this._resampler.process(length === QUANTUM ? mono : mono.subarray(0, length), this._resampled);
    for (let i = 0; i < n; i++) {
      this._frame[this._filled++] = this._resampled[i];
      if (this._filled === this._frame.length) this._flush();
    }
    this._load.end();
    return true;
  }

  private _flush(): void {
    const pcm = new Int16Array(this._frame.length); // the one allocation per frame; transferred, not copied
    const level = rms(this._frame);
    if (!this._muted) floatToPcm16(this._frame, pcm);
    const message: CaptureOutput = { type: 'frame', pcm: pcm.buffer, rms: level };
    this.port.postMessage(message, [pcm.buffer]);
    this._filled = 0;
  }

  private _handleCommand(command: CaptureCommand): void {
    switch (command.type) {
      case 'mute':
        this._muted = command.muted;
        break;
      case 'stats':
        this.port.postMessage({ type: 'stats', ...this._load.read() } satisfies CaptureOutput);
        break;
      default:
        assertNever(command);
    }
  }
}

registerProcessor(CAPTURE_PROCESSOR, CaptureProcessor);
