/**
 * Test-only AudioWorklet processor: records what the node connected to it outputs, sample for
 * sample, on the audio thread. It waits for the first sample louder than `threshold`, lets `skip`
 * more frames pass, then keeps `length` samples and posts them once, with the context frame of the
 * first: a stretch of steady output, wherever the player happened to start.
 */
class OutputRecorder extends AudioWorkletProcessor {
  constructor({ processorOptions: { threshold, skip, length } }) {
    super();
    this.threshold = threshold;
    this.skip = skip;
    this.samples = new Float32Array(length);
    this.filled = 0;
    /** The first frame to keep, once the output has become loud. */
    this.start = -1;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel || this.filled === this.samples.length) return true;
    for (let i = 0; i < channel.length; i++) {
      const frame = currentFrame + i;
      if (this.start < 0) {
        if (Math.abs(channel[i]) <= this.threshold) continue;
        this.start = frame + this.skip;
      }
      if (frame < this.start) continue;
      this.samples[this.filled++] = channel[i];
      if (this.filled === this.samples.length) {
        this.port.postMessage({ start: this.start, samples: this.samples });
        return true;
      }
    }
    return true;
  }
}

registerProcessor('test-output-recorder', OutputRecorder);
