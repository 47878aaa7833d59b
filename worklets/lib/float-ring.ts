/**
 * Single-thread ring buffer of float samples, with one spare slot so that "full" and "empty" differ.
 * Only the audio thread touches it (the port handler writes, `process()` reads), so no atomics are needed.
 */
export class FloatRing {
  private readonly _data: Float32Array;
  private _readIndex = 0;
  private _writeIndex = 0;

  constructor(capacity: number) {
    this._data = new Float32Array(capacity + 1);
  }

  get capacity(): number {
    return this._data.length - 1;
  }

  get available(): number {
    const d = this._writeIndex - this._readIndex;
    return d >= 0 ? d : d + this._data.length;
  }

  get free(): number {
    return this.capacity - this.available;
  }

  /** Copies up to `count` samples in; returns how many fit. Never overwrites unread audio. */
  write(source: Float32Array, count = source.length): number {
    const n = Math.min(count, this.free);
    const { _data: data } = this;
    let index = this._writeIndex;
    // Index loops, not subarray(): this runs on the audio thread and must not allocate.
    for (let i = 0; i < n; i++) {
      data[index] = source[i];
      if (++index === data.length) index = 0;
    }
    this._writeIndex = index;
    return n;
  }

  /** Copies up to `count` samples into `target` from `offset`; returns how many were read. */
  read(target: Float32Array, offset = 0, count = target.length - offset): number {
    const n = Math.min(count, this.available);
    const { _data: data } = this;
    let index = this._readIndex;
    for (let i = 0; i < n; i++) {
      target[offset + i] = data[index];
      if (++index === data.length) index = 0;
    }
    this._readIndex = index;
    return n;
  }

  clear(): void {
    this._readIndex = this._writeIndex = 0;
  }
}
