import '../support/guards.js';
import { expect } from '@open-wc/testing';
import { FloatRing } from '../../worklets/lib/float-ring.js';
import { floatToPcm16, pcm16ToFloat, rms } from '../../worklets/lib/pcm16.js';
import { Resampler } from '../../worklets/lib/resampler.js';
import { amplitudeAt, fitSine, levelDb, tone } from '../support/signals.js';

/** Streams `input` through a resampler in blocks of `block` samples, as a worklet would. */
function resample(input: Float32Array, from: number, to: number, block = 128): Float32Array {
  const resampler = new Resampler(from, to);
  const out = new Float32Array(resampler.maxOutput(input.length) + 16);
  const scratch = new Float32Array(resampler.maxOutput(block));
  let written = 0;
  for (let offset = 0; offset < input.length; offset += block) {
    const n = resampler.process(input.subarray(offset, offset + block), scratch);
    out.set(scratch.subarray(0, n), written);
    written += n;
  }
  return out.subarray(0, written);
}

/** Amplitude of `frequency`, measured away from the start-up and tail edges. */
function steadyAmplitude(signal: Float32Array, frequency: number, rate: number): number {
  return amplitudeAt(signal.subarray(Math.floor(signal.length * 0.2), Math.floor(signal.length * 0.8)), frequency, rate);
}

/** Every rate either end of a resampler sees: the session rates, and the context rates besides them. */
const SESSION_RATES = [8000, 16000, 24000, 48000];
const RATES = [...SESSION_RATES, 44100].sort((a, b) => a - b);
/** Each ordered pair of two different rates: capture goes context → session, playback session → context. */
const PAIRS = RATES.flatMap((from) => RATES.filter((to) => to !== from).map((to) => [from, to] as const));

describe('Resampler', () => {
  for (const [from, to] of PAIRS) {
    it(`keeps a 1 kHz tone's pitch and level from ${from} to ${to} Hz, holding back exactly its half-width`, () => {
      const { halfWidth, step } = new Resampler(from, to);
      const out = resample(tone(1000, from, 1), from, to);
      // Output k is the input at k·step, produced once halfWidth input samples beyond it have arrived.
      expect(out.length).to.be.within(Math.ceil((from - halfWidth) / step) - 1, Math.ceil((from - halfWidth) / step) + 1);
      expect(steadyAmplitude(out, 1000, to)).to.be.closeTo(0.5, 0.01);
      expect(steadyAmplitude(out, 1100, to)).to.be.below(0.005);
    });
  }

  for (const session of SESSION_RATES) {
    for (const context of [44100, 48000].filter((rate) => rate !== session)) {
      it(`takes a 1 kHz sine ${context} → ${session} → ${context} Hz with an SNR of at least 60 dB, in time and at its level`, () => {
        const input = tone(1000, context, 0.5);
        const back = resample(resample(input, context, session), session, context);
        // Both kernels are centred: output k is the input at k·step, so the round trip's group delay
        // is zero samples (the latency shows only as the samples held back at the end). What needs
        // skipping is the warm-up, where a kernel still reaches back into the silence before the
        // first sample: one half-width per stage, 2 × 3.3 ms at worst (8 kHz). 10 ms are skipped.
        const skip = Math.round(context * 0.01);
        const fit = fitSine(back.subarray(skip), 1000, context);
        const delaySamples = -((fit.phase - (2 * Math.PI * 1000 * skip) / context) / (2 * Math.PI * 1000)) * context;
        const period = context / 1000;
        const wrapped = delaySamples - period * Math.round(delaySamples / period);
        expect(fit.snrDb, 'SNR (dB)').to.be.at.least(60);
        expect(wrapped, 'group delay (samples)').to.be.closeTo(0, 0.01);
        expect(20 * Math.log10(fit.amplitude / 0.5), 'gain (dB)').to.be.closeTo(0, 0.01);
      });
    }
  }

  // Every downsampling pair the capture or the player uses, with tones from just above the new
  // Nyquist frequency to just under the old one.
  for (const [from, to] of PAIRS.filter(([from, to]) => from > to)) {
    it(`attenuates every tone between ${to / 2} and ${from / 2} Hz by at least 60 dB from ${from} to ${to} Hz (no aliasing)`, () => {
      const nyquist = to / 2;
      const top = from / 2;
      const frequencies = [1.002, 1.01, 1.03, 1.1, 1.3, 1.6, 2, 3, 4, 5].map((k) => k * nyquist).filter((f) => f < top * 0.99);
      frequencies.push(top * 0.99);
      const { halfWidth, step } = new Resampler(from, to);
      for (const f of frequencies) {
        const out = resample(tone(f, from, 0.1), from, to);
        // Past the warm-up (generously: two half-widths), where the kernel reached back before the tone.
        const steady = out.subarray(Math.ceil((2 * halfWidth) / step));
        // The requirement is 50 dB. The filter gives about 80 dB from the new Nyquist frequency on,
        // so 60 dB holds with room to spare, and still catches a transition band that reaches past
        // the Nyquist frequency (one centred on it leaves a tone just above it only about 18 dB down).
        expect(-levelDb(steady, 0.5 / Math.SQRT2), `attenuation of ${f.toFixed(0)} Hz (dB)`).to.be.at.least(60);
      }
    });
  }

  for (const [from, to] of PAIRS.filter(([from, to]) => from < to)) {
    it(`keeps the images of a tone at 75 % of ${from / 2} Hz at least 60 dB down from ${from} to ${to} Hz`, () => {
      const f = 0.75 * (from / 2);
      const out = resample(tone(f, from, 0.1), from, to);
      const fit = fitSine(out.subarray(Math.ceil((2 * new Resampler(from, to).halfWidth * to) / from)), f, to);
      expect(fit.amplitude).to.be.closeTo(0.5, 0.006); // ±0.1 dB: in the passband
      expect(fit.snrDb, 'tone over images and noise (dB)').to.be.at.least(60); // about 90 dB measured
    });
  }

  it('passes the speech band flat (±0.1 dB to 8 kHz, within 1 dB at 10 kHz) when downsampling to 24 kHz', () => {
    for (const f of [100, 3000, 8000]) {
      expect(steadyAmplitude(resample(tone(f, 48000, 0.5), 48000, 24000), f, 24000), `${f} Hz`).to.be.closeTo(0.5, 0.006);
    }
    expect(steadyAmplitude(resample(tone(10000, 48000, 0.5), 48000, 24000), 10000, 24000)).to.be.within(0.5 * 0.89, 0.5);
  });

  it('gives the same output for any block size', () => {
    const input = tone(440, 44100, 0.3);
    const a = resample(input, 44100, 24000, 128);
    const b = resample(input, 44100, 24000, 1000);
    const c = resample(input, 44100, 24000, 7);
    expect(a.length).to.equal(b.length);
    expect(a.length).to.equal(c.length);
    for (let i = 0; i < a.length; i++) {
      expect(Math.abs(a[i] - b[i])).to.be.below(1e-6);
      expect(Math.abs(a[i] - c[i])).to.be.below(1e-6);
    }
  });

  it('is an exact copy when the rates match', () => {
    const input = tone(440, 24000, 0.01);
    const out = resample(input, 24000, 24000);
    expect(Array.from(out)).to.deep.equal(Array.from(input));
  });

  it('forgets its history on reset', () => {
    const resampler = new Resampler(48000, 24000);
    const scratch = new Float32Array(256);
    resampler.process(tone(1000, 48000, 0.01), scratch);
    resampler.reset();
    const n = resampler.process(new Float32Array(256), scratch);
    expect(rms(scratch, n)).to.equal(0);
  });

  it('rejects nonsense rates', () => {
    expect(() => new Resampler(0, 24000)).to.throw(RangeError);
  });
});

describe('FloatRing', () => {
  it('reads back what was written, across the wrap-around', () => {
    const ring = new FloatRing(5);
    const out = new Float32Array(5);
    expect(ring.write(Float32Array.of(1, 2, 3))).to.equal(3);
    expect(ring.read(out, 0, 2)).to.equal(2);
    expect(ring.write(Float32Array.of(4, 5, 6, 7))).to.equal(4);
    expect(ring.available).to.equal(5);
    expect(ring.read(out)).to.equal(5);
    expect(Array.from(out)).to.deep.equal([3, 4, 5, 6, 7]);
    expect(ring.available).to.equal(0);
  });

  it('never overwrites unread samples when full', () => {
    const ring = new FloatRing(3);
    expect(ring.write(Float32Array.of(1, 2, 3, 4, 5))).to.equal(3);
    expect(ring.free).to.equal(0);
    const out = new Float32Array(4);
    expect(ring.read(out)).to.equal(3);
    expect(Array.from(out.subarray(0, 3))).to.deep.equal([1, 2, 3]);
  });

  it('empties on clear', () => {
    const ring = new FloatRing(4);
    ring.write(Float32Array.of(1, 2));
    ring.clear();
    expect(ring.available).to.equal(0);
    expect(ring.read(new Float32Array(2))).to.equal(0);
  });
});

describe('PCM16 conversion', () => {
  it('scales full range and clamps beyond it', () => {
    const out = new Int16Array(5);
    floatToPcm16(Float32Array.of(-2, -1, 0, 1, 2), out);
    expect(Array.from(out)).to.deep.equal([-32768, -32768, 0, 32767, 32767]);
  });

  it('round-trips within one quantisation step', () => {
    const source = Float32Array.of(0.25, -0.5, 0.999, -0.001);
    const pcm = new Int16Array(source.length);
    floatToPcm16(source, pcm);
    const back = new Float32Array(source.length);
    pcm16ToFloat(pcm, back);
    source.forEach((s, i) => expect(back[i]).to.be.closeTo(s, 1 / 32767));
  });

  it('measures RMS', () => {
    expect(rms(tone(1000, 48000, 1, 0.5))).to.be.closeTo(0.5 / Math.SQRT2, 1e-3);
    expect(rms(new Float32Array(0))).to.equal(0);
  });
});
