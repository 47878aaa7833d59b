/**
 * Test-only AudioWorklet processor: watches, on the audio thread, what the node connected to it
 * outputs, to the sample. It keeps the runs of samples louder than −60 dBFS (as context frames, the
 * newest 256 runs) and, asked over its port, answers them with the frame it has reached, so a test
 * can tell exactly when playback went silent, without an analyser's averaging window.
 */
const LOUD = 0.001;
const MAX_RUNS = 256;

class OutputTap extends AudioWorkletProcessor {
  constructor() {
    super();
    /** [start, end) frames of loud output, oldest first. */
    this.runs = [];
    this.reached = 0;
    this.port.onmessage = () => this.port.postMessage({ runs: this.runs, reached: this.reached });
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    for (let i = 0; i < channel.length; i++) {
      if (Math.abs(channel[i]) <= LOUD) continue;
      const frame = currentFrame + i;
      const last = this.runs[this.runs.length - 1];
      if (last && last[1] === frame) last[1] = frame + 1;
      else {
        this.runs.push([frame, frame + 1]);
        if (this.runs.length > MAX_RUNS) this.runs.shift();
      }
    }
    this.reached = currentFrame + channel.length;
    return true;
  }
}

registerProcessor('test-output-tap', OutputTap);
