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
    const size = this.data.length;
    const first = Math.min(n, size - this.writeIndex);
    this.data.set(source.subarray(0, first), this.writeIndex);
    if (n > first) this.data.set(source.subarray(first, n), 0);
    this.writeIndex = (this.writeIndex + n) % size;
    return n;
  }

  /** Copies up to `count` samples into `target` from `offset`; returns how many were read. */
  read(target: Float32Array, offset = 0, count = target.length - offset): number {
    const n = Math.min(count, this.available);
    const size = this.data.length;
    const first = Math.min(n, size - this.readIndex);
    target.set(this.data.subarray(this.readIndex, this.readIndex + first), offset);
    if (n > first) target.set(this.data.subarray(0, n - first), offset + first);
    this.readIndex = (this.readIndex + n) % size;
    return n;
  }

  clear(): void {
    this.readIndex = this.writeIndex = 0;
  }
}
