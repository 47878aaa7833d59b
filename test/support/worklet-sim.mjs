/**
 * Runs the built player worklet (dist/worklets/playback-processor.js) in Node on a simulated audio
 * clock: render quanta one after another, port messages delivered between them at the frames a
 * delivery profile says. Deterministic, so a profile's outcome is the algorithm's, not the machine's.
 */
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const QUANTUM = 128;

/** The player class, registered by the built module into a fresh fake AudioWorkletGlobalScope. */
async function loadPlayer(sampleRate) {
  const scope = globalThis;
  scope.sampleRate = sampleRate;
  scope.currentFrame = 0;
  let registered;
  scope.AudioWorkletProcessor = class {
    constructor() {
      this.port = { onmessage: null, postMessage: (message) => this.port.posted.push(message), posted: [] };
    }
  };
  scope.registerProcessor = (_name, processor) => (registered = processor);
  await import(`${root}dist/worklets/playback-processor.js?rate=${sampleRate}&t=${Math.random()}`);
  return registered;
}

/**
 * The jitter profile of `npm run bench`: replies whose 40 ms chunks leave the server in realtime,
 * each delayed 0–`maxDelayMs` (seeded), in order as on one TCP connection; once a second five chunks
 * are held back the full `maxDelayMs`. Returns arrival times in ms with the reply each belongs to.
 */
export function jitterProfile({ replies = 6, replyMs = 2000, gapMs = 800, chunkMs = 40, maxDelayMs = 150, seed = 7 } = {}) {
  let state = seed;
  const random = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const arrivals = [];
  const perReply = replyMs / chunkMs;
  for (let reply = 0; reply < replies; reply++) {
    const start = reply * (replyMs + gapMs + maxDelayMs);
    let previous = 0;
    for (let k = 0; k < perReply; k++) {
      const delay = k % 25 >= 20 ? maxDelayMs : random() * maxDelayMs;
      previous = Math.max(previous, start + k * chunkMs + delay);
      arrivals.push({ atMs: previous, reply, last: k === perReply - 1 });
    }
  }
  return { arrivals, chunkMs };
}

/**
 * Plays `profile` through the player with `options` (PlaybackOptions) at `sampleRate`, sending `end`
 * after each reply's last chunk. Returns the player's stats, its messages, and underruns counted per
 * reply (cumulative at each reply's last chunk).
 */
export async function simulate(profile, options, sampleRate = 48000) {
  const Player = await loadPlayer(sampleRate);
  const player = new Player({ processorOptions: { sourceRate: 24000, capacitySeconds: 30, replyGapMs: 1000, ...options } });
  const posted = player.port.posted;
  const send = (data) => player.port.onmessage({ data });
  const chunkSamples = (24000 * profile.chunkMs) / 1000;
  const out = new Float32Array(QUANTUM);
  const underrunsByReply = [];
  const last = profile.arrivals.at(-1).atMs;
  let next = 0;
  while ((globalThis.currentFrame / sampleRate) * 1000 < last + 3000) {
    const nowMs = (globalThis.currentFrame / sampleRate) * 1000;
    while (next < profile.arrivals.length && profile.arrivals[next].atMs <= nowMs) {
      const arrival = profile.arrivals[next++];
      const pcm = new Int16Array(chunkSamples).fill(8000);
      send({ type: 'enqueue', pcm: pcm.buffer });
      if (arrival.last) {
        send({ type: 'end' });
        underrunsByReply.push(posted.filter((m) => m.type === 'state').at(-1)?.underruns ?? 0);
      }
    }
    player.process([], [[out]]);
    globalThis.currentFrame += QUANTUM;
  }
  send({ type: 'stats' });
  const stats = posted.filter((m) => m.type === 'stats').at(-1);
  return { stats, posted, underrunsByReply };
}
