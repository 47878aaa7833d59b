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
