/**
 * Single-thread ring buffer of float samples, with one spare slot so that "full" and "empty" differ.
 * Only the audio thread touches it (the port handler writes, `process()` reads), so no atomics are needed.
 */
export class FloatRing {
  private readonly data: Float32Array;
  private readIndex = 0;
  private writeIndex = 0;

  constructor(capacity: number) {
    this.data = new Float32Array(capacity + 1);
  }

  get capacity(): number {
    return this.data.length - 1;
  }

  get available(): number {
    const d = this.writeIndex - this.readIndex;
    return d >= 0 ? d : d + this.data.length;
  }

  get free(): number {
    return this.capacity - this.available;
  }

  /** Copies up to `count` samples in; returns how many fit. Never overwrites unread audio. */
  write(source: Float32Array, count = source.length): number {
    const n = Math.min(count, this.free);
    const { data } = this;
    let index = this.writeIndex;
    // Index loops, not subarray(): this runs on the audio thread and must not allocate.
    for (let i = 0; i < n; i++) {
      data[index] = source[i];
      if (++index === data.length) index = 0;
    }
    this.writeIndex = index;
    return n;
  }

  /** Copies up to `count` samples into `target` from `offset`; returns how many were read. */
  read(target: Float32Array, offset = 0, count = target.length - offset): number {
    const n = Math.min(count, this.available);
    const { data } = this;
    let index = this.readIndex;
    for (let i = 0; i < n; i++) {
      target[offset + i] = data[index];
      if (++index === data.length) index = 0;
    }
    this.readIndex = index;
    return n;
  }

  clear(): void {
    this.readIndex = this.writeIndex = 0;
  }
}
