import type { WorkletLoad } from '../../src/audio/worklet-messages.js';

/**
 * Time spent in `process()`, by the processor's own clock. AudioWorkletGlobalScope has no
 * `performance` in every engine; `Date.now()` then counts whole milliseconds, which still sums to
 * the true total over many quanta (each quantum's error is uniform), so the mean stays honest.
 */
const clock: { now(): number } = (globalThis as { performance?: { now(): number } }).performance ?? Date;

export class LoadMeter {
  private _start = 0;
  private _total = 0;
  private _max = 0;
  private _quanta = 0;

  begin(): void {
    this._start = clock.now();
  }

  end(): void {
    const elapsed = clock.now() - this._start;
    this._total += elapsed;
    if (elapsed > this._max) this._max = elapsed;
    this._quanta++;
  }

  /** The figures since the last read; the meter starts over. */
  read(): WorkletLoad {
    const load = { quanta: this._quanta, meanMs: this._quanta ? this._total / this._quanta : 0, maxMs: this._max };
    this._total = this._max = this._quanta = 0;
    return load;
  }
}
