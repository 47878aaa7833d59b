/** Float samples in [-1, 1] ⇄ signed 16-bit PCM. Pure, allocation-free (callers own the buffers). */

/** Writes `source` as PCM16 into `target` (same length), clamping out-of-range samples. */
export function floatToPcm16(source: Float32Array, target: Int16Array, count = source.length): void {
  for (let i = 0; i < count; i++) {
    const s = source[i];
    target[i] = s >= 1 ? 0x7fff : s <= -1 ? -0x8000 : s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff);
  }
}

/** Writes PCM16 `source` as floats into `target` starting at `offset` (the exact inverse of `floatToPcm16`). */
export function pcm16ToFloat(source: Int16Array, target: Float32Array, offset = 0): void {
  for (let i = 0; i < source.length; i++) {
    const v = source[i];
    target[offset + i] = v < 0 ? v / 0x8000 : v / 0x7fff;
  }
}

/** Root-mean-square level of the first `count` samples (0 for an empty range). */
export function rms(samples: Float32Array, count = samples.length): number {
  if (count === 0) return 0;
  let sum = 0;
  for (let i = 0; i < count; i++) sum += samples[i] * samples[i];
  return Math.sqrt(sum / count);
}
