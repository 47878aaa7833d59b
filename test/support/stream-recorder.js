/**
 * Test-only AudioWorklet processor: hands the page every quantum of its input, each channel as it
 * came, from the first quantum it processes on. It posts `{ frame, quanta }` every `batch` quanta:
 * `frame` is the context frame of the first one's first sample, `quanta` each one's channels (none
 * for an input without channels). Batched: a message per quantum slows WebKit's audio down.
 */
class StreamRecorder extends AudioWorkletProcessor {
  constructor({ processorOptions: { batch } }) {
    super();
    this.batch = batch;
    this.quanta = [];
    this.frame = 0;
  }

  process(inputs) {
    if (this.quanta.length === 0) this.frame = currentFrame;
    this.quanta.push((inputs[0] ?? []).map((channel) => channel.slice()));
    if (this.quanta.length === this.batch) {
      this.port.postMessage({ frame: this.frame, quanta: this.quanta });
      this.quanta = [];
    }
    return true;
  }
}

registerProcessor('test-stream-recorder', StreamRecorder);
