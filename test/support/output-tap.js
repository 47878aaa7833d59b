/**
 * Test-only AudioWorklet processor: watches, on the audio thread, what the node connected to it
 * outputs, to the sample. Asked over its port, it answers the frame (context time in samples) of the
 * last sample louder than −60 dBFS and the frame it has reached, so a test can tell exactly when
 * playback went silent without an analyser's averaging window.
 */
const LOUD = 0.001;

class OutputTap extends AudioWorkletProcessor {
  constructor() {
    super();
    this.lastLoudFrame = -1;
    this.reached = 0;
    this.port.onmessage = () => this.port.postMessage({ lastLoudFrame: this.lastLoudFrame, reached: this.reached });
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) {
      for (let i = channel.length - 1; i >= 0; i--) {
        if (Math.abs(channel[i]) > LOUD) {
          this.lastLoudFrame = currentFrame + i;
          break;
        }
      }
      this.reached = currentFrame + channel.length;
    }
    return true;
  }
}

registerProcessor('test-output-tap', OutputTap);
