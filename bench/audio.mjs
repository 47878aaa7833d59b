/**
 * The audio measurements of `npm run bench`, each run in the page (these functions are serialised by
 * page.evaluate: they may use only their arguments, page globals and modules the page imports).
 * `/bench/engine.js` is the audio engine alone, unminified; `/bench/page-tools.js` connects the test
 * suite's output tap worklet, which records on the audio thread the runs of samples louder than
 * −60 dBFS.
 */

/**
 * The jitter profile, played side by side into two players in one page: the adaptive buffer and a
 * fixed 250 ms prebuffer (the Atoms guidance). Each reply's audio leaves the "server" in realtime,
 * 40 ms per chunk; every chunk then takes 0–150 ms through the "network" (seeded, so both players
 * and every run get the same profile), in order, as on one TCP connection; and once a second a
 * burst holds back five chunks for the full 150 ms, so they arrive together with the next ones.
 */
export async function measureJitter({ replies = 6, replyMs = 2000, gapMs = 800, chunkMs = 40, maxDelayMs = 150, seed = 7 } = {}) {
  const { AudioEngine } = await import('/bench/engine.js');
  let state = seed;
  const random = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const rate = 24000;
  const chunkSamples = (rate * chunkMs) / 1000;
  const perReply = replyMs / chunkMs;
  const schedule = [];
  for (let r = 0; r < replies; r++) {
    const start = r * (replyMs + gapMs + maxDelayMs);
    let previous = 0;
    for (let k = 0; k < perReply; k++) {
      const burst = k % 25 >= 20;
      const delay = burst ? maxDelayMs : random() * maxDelayMs;
      const at = Math.max(previous, start + k * chunkMs + delay);
      previous = at;
      schedule.push({ at, reply: r, end: k === perReply - 1 });
    }
  }
  const chunk = new Int16Array(chunkSamples);
  for (let i = 0; i < chunk.length; i++) chunk[i] = Math.round(6000 + 4000 * Math.sin((2 * Math.PI * 300 * i) / rate));

  const players = {
    adaptive: AudioEngine.prepare({ worklets: { baseUrl: '/dist/worklets/' } }),
    fixed250: AudioEngine.prepare({ worklets: { baseUrl: '/dist/worklets/' }, prebufferMs: 250, adaptiveBuffer: false }),
  };
  const starts = { adaptive: [], fixed250: [] };
  const firstReplyUnderruns = {};
  const firstArrival = [];
  for (const [name, engine] of Object.entries(players)) {
    await engine.start(rate);
    let reply = -1;
    engine.onPlayback((event) => {
      if (event.type === 'playing' && event.playing && reply < firstArrival.length - 1) {
        reply = firstArrival.length - 1;
        starts[name].push(performance.now() - firstArrival[reply]);
      }
    });
    await engine.readLoad(); // start the buffer figures from here
  }
  const t0 = performance.now() + 50;
  for (const item of schedule) {
    while (performance.now() < t0 + item.at) await new Promise((resolve) => setTimeout(resolve, 2));
    if (firstArrival.length === item.reply) {
      firstArrival.push(performance.now());
      if (item.reply === 1) for (const [name, engine] of Object.entries(players)) firstReplyUnderruns[name] = engine.playbackStats.underruns;
    }
    for (const engine of Object.values(players)) {
      engine.enqueue(chunk.slice());
      if (item.end) engine.endReply();
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 600));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const result = {
    profile: { replies, replyMs, chunkMs, networkDelayMs: `0-${maxDelayMs}`, burst: 'every 1 s, 5 chunks held 150 ms', seed },
  };
  for (const [name, engine] of Object.entries(players)) {
    const { playback } = await engine.readLoad();
    result[name] = {
      underruns: playback.underruns,
      underrunsAfterFirstReply: playback.underruns - firstReplyUnderruns[name],
      meanBufferedMs: Math.round(playback.meanBufferedMs),
      finalTargetMs: Math.round(playback.targetMs),
      replyStartMsMedian: Math.round(median(starts[name])),
    };
    await engine.close();
  }
  return result;
}

/**
 * The first `output_audio.delta` of a reply arrives → the first non-silent sample leaves the player
 * (the output tap's first loud frame), over `runs` replies of the local agent to typed text, in a
 * muted call (the agent hears silence, so it never barges in). `sessionOptions` picks the buffer.
 */
export async function measurePlaybackStart(runs, sessionOptions) {
  const nodes = [];
  const sockets = [];
  const RealNode = window.AudioWorkletNode;
  const RealSocket = window.WebSocket;
  window.AudioWorkletNode = class extends RealNode {
    constructor(context, name, options) {
      super(context, name, options);
      nodes.push({ name, node: this });
    }
  };
  window.WebSocket = class extends RealSocket {
    constructor(url, protocols) {
      super(url, protocols);
      sockets.push(this);
    }
  };
  const el = document.createElement('voice-agent');
  el.setAttribute('agent-id', 'bench');
  el.setAttribute('token-endpoint', '/api/voice-token');
  el.setAttribute('variables', '{"greeting":""}');
  el.muted = true;
  if (sessionOptions) el.sessionOptions = sessionOptions;
  document.body.append(el);
  await el.start();
  window.AudioWorkletNode = RealNode;
  window.WebSocket = RealSocket;
  const { tapOutput, until } = await import('/bench/page-tools.js');
  const player = nodes.find((n) => n.name === 'voice-agent-playback').node;
  const context = player.context;
  const rate = context.sampleRate;
  const read = await tapOutput(player);
  let arrival = -1;
  sockets[0].addEventListener('message', (event) => {
    if (arrival < 0 && typeof event.data === 'string' && event.data.includes('"output_audio.delta"')) arrival = context.currentTime * rate;
  });
  const samples = [];
  for (let i = 0; i < runs; i++) {
    arrival = -1;
    el.sendText(`Hello ${i}`);
    await until(() => arrival >= 0);
    let first;
    await until(async () => (first = (await read()).runs.find(([start]) => start >= arrival - 128)));
    samples.push(((first[0] - arrival) / rate) * 1000);
    await until(() => !el.speaking);
  }
  await el.stop();
  el.remove();
  const sorted = samples.sort((a, b) => a - b);
  const round = (x) => Math.round(x * 10) / 10;
  return { runs, median: round(sorted[Math.floor(runs / 2)]), p95: round(sorted[Math.min(runs - 1, Math.floor(runs * 0.95))]) };
}

/**
 * Barge-in on the audio thread, `runs` times in one context: a reply plays, `interrupt()` is called
 * (what the session does when an `interruption` frame arrives), and the output tap tells how many
 * samples of the old reply were still rendered after the context frame at which it was called, and
 * when the output fell silent. Also the main-thread round trip until the player confirms the clear.
 */
export async function measureBargeIn(runs) {
  const { AudioEngine } = await import('/bench/engine.js');
  const { tapOutput, until } = await import('/bench/page-tools.js');
  const engine = AudioEngine.prepare({ worklets: { baseUrl: '/dist/worklets/' } });
  await engine.start(24000);
  const context = engine.context;
  const rate = context.sampleRate;
  const read = await tapOutput(engine._playback);
  const reply = new Int16Array(24000);
  for (let i = 0; i < reply.length; i++) reply[i] = Math.round(6000 + 4000 * Math.sin((2 * Math.PI * 300 * i) / 24000));
  const oldSamples = [];
  const silentMs = [];
  const confirmMs = [];
  for (let i = 0; i < runs; i++) {
    const before = (await read()).reached;
    engine.enqueue(reply.slice());
    // Interrupt somewhere 100–300 ms into the reply.
    const cut = before + rate * (0.1 + 0.2 * ((i * 7919) % 101) / 100);
    await until(async () => (await read()).runs.some(([start, end]) => start >= before && end >= cut), 5);
    const clears = engine.playbackStats.lastClearFrame;
    const arrivedAt = context.currentTime * rate;
    const t0 = performance.now();
    engine.interrupt();
    await until(() => engine.playbackStats.lastClearFrame !== clears, 0);
    confirmMs.push(performance.now() - t0);
    let state;
    await until(async () => (state = await read()).reached > arrivedAt + rate * 0.05);
    const lastEnd = Math.max(...state.runs.filter(([start]) => start < arrivedAt + rate * 0.05).map(([, end]) => end));
    const after = Math.max(0, lastEnd - arrivedAt);
    oldSamples.push(after);
    silentMs.push((after / rate) * 1000);
  }
  await engine.close();
  const stats = (xs, digits = 1) => {
    const s = [...xs].sort((a, b) => a - b);
    const r = (x) => Math.round(x * 10 ** digits) / 10 ** digits;
    return { median: r(s[Math.floor(s.length / 2)]), p95: r(s[Math.floor(s.length * 0.95)]), max: r(s[s.length - 1]) };
  };
  return {
    runs,
    contextSampleRate: rate,
    oldSamplesAfterInterruption: stats(oldSamples, 0),
    timeToSilenceMs: stats(silentMs, 2),
    clearConfirmedMs: stats(confirmMs, 2),
  };
}

/**
 * Worklet time per render quantum, from the worklets' own clocks, during full duplex: the microphone
 * (the fake capture device) into the capture worklet and a reply through the player, for `seconds`.
 */
export async function measureAudioThread(seconds) {
  const { AudioEngine } = await import('/bench/engine.js');
  const engine = AudioEngine.prepare({ worklets: { baseUrl: '/dist/worklets/' } });
  await engine.openMicrophone();
  await engine.start(24000);
  const reply = new Int16Array(24000 * (seconds + 1));
  for (let i = 0; i < reply.length; i++) reply[i] = Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / 24000));
  engine.enqueue(reply);
  await engine.readLoad();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const load = await engine.readLoad();
  await engine.close();
  const us = (ms) => Math.round(ms * 1000 * 10) / 10;
  const share = (ms) => Math.round((ms / load.quantumMs) * 10000) / 100;
  return {
    contextSampleRate: engine.sampleRate,
    quantumMs: Math.round(load.quantumMs * 1000) / 1000,
    captureMicrosPerQuantum: { mean: us(load.capture.meanMs), max: us(load.capture.maxMs) },
    playbackMicrosPerQuantum: { mean: us(load.playback.meanMs), max: us(load.playback.maxMs) },
    loadPercentOfQuantum: share(load.capture.meanMs + load.playback.meanMs),
  };
}
