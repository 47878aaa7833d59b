/** Test signals and their measurement, shared by the DSP and audio-engine tests. */

/** A sine tone as float samples. */
export function tone(frequency: number, rate: number, seconds: number, amplitude = 0.5): Float32Array {
  const out = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * frequency * i) / rate);
  return out;
}

/** A sine tone as PCM16 samples (`amplitude` in 16-bit units). */
export function pcmTone(frequency: number, rate: number, samples: number, amplitude = 16384): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * frequency * i) / rate)));
}

/** Amplitude of `frequency` in `signal`: a single-bin DFT over the whole signal. */
export function amplitudeAt(signal: Float32Array, frequency: number, rate: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < signal.length; i++) {
    const phase = (2 * Math.PI * frequency * i) / rate;
    re += signal[i] * Math.cos(phase);
    im -= signal[i] * Math.sin(phase);
  }
  return (2 * Math.hypot(re, im)) / signal.length;
}

export interface SineFit {
  /** Amplitude of the fitted sine. */
  amplitude: number;
  /** Phase in radians, for a model `amplitude · sin(2π·f·i / rate + phase)` with i counted from the start of `signal`. */
  phase: number;
  /** Power of the fitted sine over the power of everything else, DC offset included, in dB. */
  snrDb: number;
}

/**
 * Least-squares fit of a sine at exactly `frequency` (with a DC term) to `signal`: its amplitude and
 * phase, and the signal-to-noise-and-distortion ratio of what is left. A signal whose frequency is
 * off leaves a residual that grows with its length (a 0.1 Hz error over 100 ms: about 35 dB), so a
 * high ratio proves the frequency too.
 */
export function fitSine(signal: ArrayLike<number>, frequency: number, rate: number): SineFit {
  const { tones, snrDb } = fitSines(signal, [frequency], rate);
  return { ...tones[0], snrDb };
}

/** {@link fitSine} for a sum of sines at several exact frequencies; `snrDb` is their total power over the rest. */
export function fitSines(signal: ArrayLike<number>, frequencies: readonly number[], rate: number): { tones: { amplitude: number; phase: number }[]; snrDb: number } {
  const n = signal.length;
  const basis = (i: number): number[] => [...frequencies.flatMap((f) => [Math.sin((2 * Math.PI * f * i) / rate), Math.cos((2 * Math.PI * f * i) / rate)]), 1];
  const size = 2 * frequencies.length + 1;
  // Normal equations (BᵀB)x = Bᵀy, as an augmented matrix.
  const m = Array.from({ length: size }, () => new Array<number>(size + 1).fill(0));
  for (let i = 0; i < n; i++) {
    const b = basis(i);
    for (let r = 0; r < size; r++) {
      for (let c = 0; c < size; c++) m[r][c] += b[r] * b[c];
      m[r][size] += b[r] * signal[i];
    }
  }
  const x = solve(m);
  let tone = 0;
  let rest = 0;
  for (let i = 0; i < n; i++) {
    const b = basis(i);
    let model = 0;
    for (let k = 0; k < size - 1; k++) model += x[k] * b[k];
    tone += model * model;
    rest += (signal[i] - model) ** 2;
  }
  const tones = frequencies.map((_, k) => ({ amplitude: Math.hypot(x[2 * k], x[2 * k + 1]), phase: Math.atan2(x[2 * k + 1], x[2 * k]) }));
  return { tones, snrDb: 10 * Math.log10(tone / rest) };
}

/** Solves a linear system given as an augmented matrix (Gauss–Jordan elimination with partial pivoting). */
function solve(m: number[][]): number[] {
  const size = m.length;
  for (let col = 0; col < size; col++) {
    let pivot = col;
    for (let row = col + 1; row < size; row++) if (Math.abs(m[row][col]) > Math.abs(m[pivot][col])) pivot = row;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let row = 0; row < size; row++) {
      if (row === col) continue;
      const factor = m[row][col] / m[col][col];
      for (let k = col; k <= size; k++) m[row][k] -= factor * m[col][k];
    }
  }
  return m.map((row, i) => row[size] / row[i]);
}

/** RMS level of `signal` in dB relative to `referenceRms`. */
export function levelDb(signal: ArrayLike<number>, referenceRms: number): number {
  let sum = 0;
  for (let i = 0; i < signal.length; i++) sum += signal[i] * signal[i];
  return 20 * Math.log10(Math.sqrt(sum / signal.length) / referenceRms);
}
