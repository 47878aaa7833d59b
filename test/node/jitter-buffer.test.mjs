/**
 * The adaptive jitter buffer's algorithm on a simulated audio clock (the built player worklet, run in
 * Node): the bench's delivery profile, with the same seeds every time, so these are exact outcomes,
 * not timings. The browser tests prove the same player plays real audio without gaps or clicks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jitterProfile, simulate } from '../support/worklet-sim.mjs';

const ADAPTIVE = { prebufferMs: 40, maxBufferMs: 400, adaptive: true };
const FIXED_250 = { prebufferMs: 250, maxBufferMs: 250, adaptive: false };

for (const seed of [7, 11, 42]) {
  test(`learns 0–150 ms of lateness within the first reply, then holds far less than a fixed 250 ms (seed ${seed})`, async () => {
    const profile = jitterProfile({ seed });
    const adaptive = await simulate(profile, ADAPTIVE);
    const fixed = await simulate(profile, FIXED_250);
    const [firstReply] = adaptive.underrunsByReply;
    const later = adaptive.stats.underruns - firstReply;
    // Starting at 40 ms, the first reply meets lateness it has not seen yet; from the second on, at most one.
    assert.ok(firstReply <= 3, `first reply: ${firstReply} underruns`);
    assert.ok(later <= 1, `later replies: ${later} underruns`);
    assert.equal(fixed.stats.underruns, 0);
    assert.ok(adaptive.stats.meanBufferedMs < 0.65 * fixed.stats.meanBufferedMs, `${adaptive.stats.meanBufferedMs} ms vs ${fixed.stats.meanBufferedMs} ms`);
    // The wait settled on the lateness the profile has (up to 150 ms), not on its ceiling.
    assert.ok(adaptive.stats.targetMs > 140 && adaptive.stats.targetMs < 250, `target ${adaptive.stats.targetMs} ms`);
  });
}

test('starts small when the server sends ahead of realtime, and never underruns', async () => {
  // Replies sent at twice realtime, as the local agent and real servers do: no lateness at all.
  const arrivals = [];
  for (let reply = 0; reply < 3; reply++) {
    for (let k = 0; k < 50; k++) arrivals.push({ atMs: reply * 3000 + k * 20, reply, last: k === 49 });
  }
  const { stats, posted } = await simulate({ arrivals, chunkMs: 40 }, ADAPTIVE);
  assert.equal(stats.underruns, 0);
  assert.ok(stats.targetMs <= 40 + 1e-9, `target ${stats.targetMs} ms`);
  const replies = posted.filter((m) => m.type === 'reply');
  assert.equal(replies.length, 3);
  for (const reply of replies) assert.equal(reply.playedSamples, (48000 * 2000) / 1000);
});

test('a fixed prebuffer never adapts', async () => {
  const { stats } = await simulate(jitterProfile({ seed: 3, maxDelayMs: 400 }), { prebufferMs: 100, maxBufferMs: 100, adaptive: false });
  assert.equal(stats.targetMs, 100);
  assert.ok(stats.underruns > 0);
});

test('the adaptive wait never passes max-buffer-ms, however late the audio', async () => {
  const { stats } = await simulate(jitterProfile({ seed: 5, maxDelayMs: 900 }), { prebufferMs: 40, maxBufferMs: 300, adaptive: true });
  assert.ok(stats.targetMs <= 300 + 1e-9, `target ${stats.targetMs} ms`);
});

test('shrinks back towards the floor once replies arrive on time again, slowly', async () => {
  // A first reply with 0–150 ms of lateness, then eight 2 s replies delivered on time.
  const late = jitterProfile({ replies: 1, replyMs: 2000, seed: 9 }).arrivals;
  const arrivals = [...late];
  for (let reply = 1; reply <= 8; reply++) {
    const start = late.at(-1).atMs + 500 + (reply - 1) * 2500;
    for (let k = 0; k < 50; k++) arrivals.push({ atMs: start + k * 40, reply, last: k === 49 });
  }
  const { posted, stats } = await simulate({ arrivals, chunkMs: 40 }, ADAPTIVE);
  const peak = Math.max(...posted.filter((m) => m.type === 'state').map((m) => m.targetMs));
  assert.ok(peak > 100, `grew to ${peak} ms`);
  assert.ok(stats.targetMs < 60, `settled at ${stats.targetMs} ms after 16 s on time`);
});

test('without an end, a reply is over once the player has been dry for the reply gap', async () => {
  // 400 ms of audio, then 200 ms more in one burst `pauseMs` after the first part ran dry; never an `end`.
  const profile = (pauseMs) => {
    const arrivals = [];
    for (let k = 0; k < 10; k++) arrivals.push({ atMs: k * 40, reply: 0, last: false });
    for (let k = 0; k < 5; k++) arrivals.push({ atMs: 400 + pauseMs, reply: 0, last: false });
    return { arrivals, chunkMs: 40 };
  };
  const played = (posted) => posted.filter((m) => m.type === 'reply').map((m) => (m.playedSamples / 48000) * 1000);
  // A reply never ended loses what it kept back when it ran dry (under a quantum) and the resampler's
  // last millisecond; nothing of it leaks into the next reply.
  const TAIL_MS = (128 / 48000) * 1000 + 1;
  const within = await simulate(profile(600), { ...ADAPTIVE, replyGapMs: 1000 });
  assert.equal(within.stats.underruns, 1, 'a 600 ms stall inside a 1 s gap is an underrun of the same reply');
  const [whole, ...none] = played(within.posted);
  assert.deepEqual(none, []);
  assert.ok(whole <= 600 && whole >= 600 - TAIL_MS, `${whole} ms`);
  const past = await simulate(profile(1500), { ...ADAPTIVE, replyGapMs: 1000 });
  assert.equal(past.stats.underruns, 0, 'after the gap, late audio starts a new reply');
  const [first, second, ...more] = played(past.posted);
  assert.deepEqual(more, []);
  assert.ok(first <= 400 && first >= 400 - TAIL_MS, `${first} ms`);
  assert.ok(second <= 200 && second >= 200 - TAIL_MS, `${second} ms: nothing of the first reply in it`);
  const longGap = await simulate(profile(1500), { ...ADAPTIVE, replyGapMs: 2000 });
  assert.equal(longGap.stats.underruns, 1, 'a longer gap keeps the same stall inside the reply');
});
