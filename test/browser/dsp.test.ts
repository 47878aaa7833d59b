import '../support/guards.js';
import { expect } from '@open-wc/testing';
import { FloatRing } from '../../worklets/lib/float-ring.js';
import { floatToPcm16, pcm16ToFloat, rms } from '../../worklets/lib/pcm16.js';
import { Resampler } from '../../worklets/lib/resampler.js';
import { amplitudeAt, tone } from '../support/signals.js';

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

describe('Resampler', () => {
  for (const [from, to] of [
    [48000, 24000],
    [44100, 24000],
    [24000, 48000],
    [24000, 44100],
    [16000, 24000],
  ]) {
    it(`keeps a 1 kHz tone's pitch and level from ${from} to ${to} Hz`, () => {
      const out = resample(tone(1000, from, 1), from, to);
      expect(out.length).to.be.within(to - 64, to + 2);
      expect(steadyAmplitude(out, 1000, to)).to.be.closeTo(0.5, 0.01);
      expect(steadyAmplitude(out, 1100, to)).to.be.below(0.005);
    });
  }

  it('removes content above the output Nyquist frequency instead of aliasing it', () => {
    // 15 kHz at 48 kHz would alias to 9 kHz at 24 kHz without a low-pass.
    const out = resample(tone(15000, 48000, 1), 48000, 24000);
    expect(steadyAmplitude(out, 9000, 24000)).to.be.below(0.5 * 0.001); // > 60 dB down
    expect(rms(out.subarray(1000))).to.be.below(0.001);
  });

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
