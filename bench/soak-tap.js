/**
 * AudioWorklet processor for the soak bench (bench/soak.mjs), served as `/bench/soak-tap.js`: watches
 * two inputs on the audio thread, 0 the microphone as the page captures it and 1 the player's
 * output, and posts when sound starts on each (its first loud frame) and when it stops (its last loud
 * frame, once `gapMs` of quiet followed), as context frames. Only these edges cross to the page.
 */
class SoakTap extends AudioWorkletProcessor {
  constructor({ processorOptions }) {
    super();
    const { thresholds, gapMs } = processorOptions;
    this.inputs = thresholds.map((threshold, index) => ({ threshold, gap: Math.round((gapMs[index] * sampleRate) / 1000), on: false, last: -1 }));
  }

  process(inputs) {
    const end = currentFrame + 128;
    this.inputs.forEach((state, index) => {
      const channel = inputs[index] && inputs[index][0];
      if (channel) {
        for (let i = 0; i < channel.length; i++) {
          if (Math.abs(channel[i]) < state.threshold) continue;
          const frame = currentFrame + i;
          if (!state.on) {
            state.on = true;
            this.port.postMessage({ input: index, edge: 'start', frame });
          }
          state.last = frame;
        }
      }
      if (state.on && end - state.last > state.gap) {
        state.on = false;
        this.port.postMessage({ input: index, edge: 'end', frame: state.last + 1 });
      }
    });
    return true;
  }
}

registerProcessor('bench-soak-tap', SoakTap);
