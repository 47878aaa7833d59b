/**
 * `npm run bench -- --soak 10m`: one long full-duplex voice call in headless Chromium against the
 * local agent, with a barge-in every cycle of the microphone's recording, and how the call's figures
 * at its end compare with those at its start.
 *
 * The microphone (Chromium's fake capture device) plays `soak-loop.wav` in a loop, made here with
 * the local agent's own synthetic voice: the user says "Tell me more", waits while the agent echoes it
 * ("You said:", then the user's own audio), says it again over that reply (a barge-in: the agent
 * stops and answers the new turn), then lets the second reply play out. One cycle every
 * `CYCLE_SECONDS`.
 *
 * Measured on the call's own AudioContext clock by a worklet (bench/soak-tap.js) that watches the
 * microphone as the page captures it and the player's output:
 * - replyLatencyMs: the user's turn ends (last loud microphone frame) → the agent's reply is heard
 *   (first loud output frame). It includes the local agent's 600 ms of silence that ends a turn.
 * - bargeInMs: the user starts talking over the agent's audio → the agent's audio stops, for each
 *   barge-in the agent answered with an `interruption`; clearMs: that `interruption` reaches the
 *   page → the agent's audio stops (the widget's own share).
 * - eventLoopLagMs: how late a 50 ms timer fires; mainThreadMsPerSecond: Chromium's task time.
 * Each for the first and the last window (a minute, or a third of a shorter soak), with `drift` the
 * last minus the first. JS heap after a forced collection at the start, at the end of the call and
 * after it stopped, with `growth`; turns and interruptions as the agent counted them, barge-ins the
 * page saw, player underruns; and what is still open after stop (should be nothing).
 */
import { mkdirSync, writeFileSync } from 'node:fs';

/** The soak's microphone phrase and its timing, in seconds. */
const PHRASE = 'Tell me more';
/** From the end of the first phrase to the barge-in: the reply has started and is in its echo part. */
const BARGE_IN_AFTER = 2.0;
/** From the end of the barge-in phrase to the next cycle: its whole reply plays out, then a pause. */
const REPLY_ROOM = 4.0;
const RATE = 48000;
const LAG_TICK_MS = 50;

/** Parses `10m`, `90s`, `1.5m` or a bare number of seconds; undefined for anything else. */
export function parseDuration(text) {
  const match = /^(\d+(?:\.\d+)?)\s*(s|m|min)?$/.exec(String(text).trim());
  if (!match) return undefined;
  return Number(match[1]) * (match[2] && match[2] !== 's' ? 60 : 1);
}

/** Writes (once) the soak microphone's WAV into test/.generated and answers its path and cycle. */
export async function soakFixture(root) {
  const { synthesizeSpeech, encodeWav } = await import(`${root}dist/local-agent/index.js`);
  const { pcm } = synthesizeSpeech(PHRASE, RATE);
  const gap1 = Math.round(BARGE_IN_AFTER * RATE);
  const gap2 = Math.round(REPLY_ROOM * RATE);
  const cycle = new Int16Array(2 * pcm.length + gap1 + gap2);
  cycle.set(pcm, 0);
  cycle.set(pcm, pcm.length + gap1);
  const wav = `${root}test/.generated/soak-loop.wav`;
  mkdirSync(`${root}test/.generated`, { recursive: true });
  writeFileSync(wav, encodeWav(cycle, RATE));
  return { wav, phrase: PHRASE, phraseSeconds: round(pcm.length / RATE), cycleSeconds: round(cycle.length / RATE) };
}

/**
 * Runs the soak for `seconds` in a new page of `browser` (launched with the soak WAV as its
 * microphone), on the bench server at `origin` whose token endpoint serves `agent`.
 */
export async function measureSoak({ browser, origin, agent, seconds, fixture, log = () => {} }) {
  const page = await browser.newPage();
  const cdp = await page.createCDPSession();
  await cdp.send('Performance.enable');
  await page.goto(`${origin}/bench`);
  await page.waitForFunction(() => customElements.get('voice-agent'));
  const heap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    return (await metrics(cdp)).JSHeapUsedSize;
  };
  const windowSeconds = Math.min(60, seconds / 3);
  // Room for every edge the soak can see, allocated before the first heap figure.
  const capacity = Math.ceil((seconds / fixture.cycleSeconds) * 4) + 64;
  const { sessionId } = await page.evaluate(soakStart, { capacity, lagCapacity: Math.ceil((seconds * 1000) / LAG_TICK_MS) + 256, lagTickMs: LAG_TICK_MS });
  log(`soak: connected, ${seconds} s to go`);
  const heapStart = await heap();
  const t0 = Date.now();
  const mark = async () => ({ ...(await page.evaluate(() => window.__soak.mark())), metrics: await metrics(cdp) });
  const sleepUntil = (s) => new Promise((resolve) => setTimeout(resolve, Math.max(0, t0 + s * 1000 - Date.now())));
  const marks = [await mark()];
  await sleepUntil(windowSeconds);
  marks.push(await mark());
  await sleepUntil(seconds - windowSeconds);
  marks.push(await mark());
  log('soak: last window');
  await sleepUntil(seconds);
  marks.push(await mark());
  const heapEnd = await heap();
  const figures = await page.evaluate(soakStop, [
    [marks[0].t, marks[1].t],
    [marks[2].t, marks[3].t],
  ]);
  const heapAfterStop = await heap();
  await page.close();
  const stats = agent.sessions.find((s) => s.sessionId === sessionId);

  const minutes = seconds / 60;
  const busy = (a, b) => round(((b.metrics.TaskDuration - a.metrics.TaskDuration) * 1000) / (b.metrics.Timestamp - a.metrics.Timestamp));
  const mainThreadMsPerSecond = { first: busy(marks[0], marks[1]), last: busy(marks[2], marks[3]) };
  const underruns = { total: marks[3].underruns - marks[0].underruns, first: marks[1].underruns - marks[0].underruns, last: marks[3].underruns - marks[2].underruns };
  const drift = (figure, key) => (figure.first[key] === null || figure.last[key] === null ? null : round(figure.last[key] - figure.first[key]));
  return {
    seconds,
    windowSeconds: round(windowSeconds),
    microphone: { phrase: fixture.phrase, phraseSeconds: fixture.phraseSeconds, cycleSeconds: fixture.cycleSeconds, bargeInEveryCycle: true },
    counts: {
      turns: stats.turns,
      interruptions: stats.interruptions,
      replies: figures.replyLatencyMs.all.n,
      bargeIns: figures.bargeInMs.all.n,
      bargeInsNotInterrupted: figures.bargeInsNotInterrupted,
      underruns: underruns.total,
      overflowSamples: marks[3].overflow,
      appendFrames: stats.appendFrames,
    },
    replyLatencyMs: figures.replyLatencyMs,
    bargeInMs: figures.bargeInMs,
    clearMs: figures.clearMs,
    eventLoopLagMs: figures.eventLoopLagMs,
    mainThreadMsPerSecond,
    underruns,
    heapKB: { start: kb(heapStart), end: kb(heapEnd), afterStop: kb(heapAfterStop) },
    transcriptEntries: { start: marks[0].transcript, end: marks[3].transcript },
    shadowNodes: { start: marks[0].shadowNodes, end: marks[3].shadowNodes },
    drift: {
      replyLatencyMedianMs: drift(figures.replyLatencyMs, 'median'),
      replyLatencyP95Ms: drift(figures.replyLatencyMs, 'p95'),
      bargeInMedianMs: drift(figures.bargeInMs, 'median'),
      bargeInP95Ms: drift(figures.bargeInMs, 'p95'),
      clearMedianMs: drift(figures.clearMs, 'median'),
      eventLoopLagP95Ms: drift(figures.eventLoopLagMs, 'p95'),
      mainThreadMsPerSecond: round(mainThreadMsPerSecond.last - mainThreadMsPerSecond.first),
      underrunsPerWindow: underruns.last - underruns.first,
    },
    growth: {
      heapKB: kb(heapEnd - heapStart),
      heapKBPerMinute: round((heapEnd - heapStart) / 1024 / minutes),
      heapKBPerTurn: stats.turns ? round((heapEnd - heapStart) / 1024 / stats.turns) : null,
      transcriptEntries: marks[3].transcript - marks[0].transcript,
      shadowNodes: marks[3].shadowNodes - marks[0].shadowNodes,
    },
    afterStop: figures.afterStop,
  };
}

async function metrics(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}

function kb(bytes) {
  return Math.round(bytes / 1024);
}

function round(value) {
  return Math.round(value * 100) / 100;
}

// ───────────────────────────────── In the page ─────────────────────────────────
// Serialised by page.evaluate: they may use only their arguments and page globals.

/** Starts the call with spies and the soak tap in place; keeps its state on `window.__soak`. */
async function soakStart({ capacity, lagCapacity, lagTickMs }) {
  const opened = { contexts: [], sockets: [], streams: [], nodes: [] };
  const RealContext = window.AudioContext;
  const RealSocket = window.WebSocket;
  const RealNode = window.AudioWorkletNode;
  window.AudioContext = class extends RealContext {
    constructor(options) {
      super(options);
      opened.contexts.push(this);
    }
  };
  window.WebSocket = class extends RealSocket {
    constructor(url, protocols) {
      super(url, protocols);
      opened.sockets.push(this);
    }
  };
  window.AudioWorkletNode = class extends RealNode {
    constructor(context, name, options) {
      super(context, name, options);
      opened.nodes.push({ name, node: this });
    }
  };
  const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await getUserMedia(constraints);
    opened.streams.push(stream);
    return stream;
  };

  const el = document.createElement('voice-agent');
  el.setAttribute('agent-id', 'bench-soak');
  el.setAttribute('layout', 'inline');
  el.setAttribute('token-endpoint', '/api/voice-token');
  el.setAttribute('variables', '{"greeting":""}');
  document.body.append(el);
  let sessionId;
  el.addEventListener('va-connect', (event) => (sessionId = event.detail.sessionId), { once: true });
  await el.start();
  if (el.status !== 'connected') throw new Error(`The soak call did not connect (${el.status}).`);
  const context = opened.contexts.at(-1);
  const player = opened.nodes.find((n) => n.name === 'voice-agent-playback').node;
  const socket = opened.sockets.at(-1);
  const rate = context.sampleRate;

  // Records, preallocated: [context seconds, value...] rows.
  const table = (columns, rows) => ({ data: new Float64Array(columns * rows), columns, n: 0 });
  const push = (t, ...values) => {
    if ((t.n + 1) * t.columns > t.data.length) return;
    t.data.set(values, t.n * t.columns);
    t.n++;
  };
  const s = {
    el,
    opened,
    context,
    reply: table(2, capacity),
    bargeIn: table(3, capacity),
    lag: table(2, lagCapacity),
    notInterrupted: 0,
    underruns: 0,
    overflow: 0,
    lastInterruption: -1,
    mic: { on: false, pendingEnd: -1 },
    out: { on: false, bargeAt: -1 },
  };
  window.__soak = s;
  socket.addEventListener('message', ({ data }) => {
    if (typeof data === 'string' && data.includes('"type":"interruption"')) s.lastInterruption = context.currentTime * rate;
  });
  player.port.addEventListener('message', ({ data }) => {
    if (data.type === 'state') s.underruns = data.underruns;
    else if (data.type === 'overflow') s.overflow += data.droppedSamples;
  });

  await context.audioWorklet.addModule('/bench/soak-tap.js');
  const tap = new RealNode(context, 'bench-soak-tap', {
    numberOfInputs: 2,
    numberOfOutputs: 0,
    // The microphone is digital silence between phrases; the player's output is the agent's voice.
    processorOptions: { thresholds: [0.01, 0.001], gapMs: [450, 400] },
  });
  context.createMediaStreamSource(opened.streams.at(-1)).connect(tap, 0, 0);
  player.connect(tap, 0, 1);
  tap.port.onmessage = ({ data: { input, edge, frame } }) => {
    const at = frame / rate;
    if (input === 0) {
      if (edge === 'start') {
        s.mic.pendingEnd = -1; // talking again before a reply: that turn is not timed
        if (s.out.on) s.out.bargeAt = frame;
      } else {
        s.mic.pendingEnd = frame;
      }
      return;
    }
    if (edge === 'start') {
      s.out.on = true;
      if (s.mic.pendingEnd >= 0) push(s.reply, at, ((frame - s.mic.pendingEnd) / rate) * 1000);
      s.mic.pendingEnd = -1;
      return;
    }
    s.out.on = false;
    const barge = s.out.bargeAt;
    s.out.bargeAt = -1;
    if (barge < 0) return;
    if (s.lastInterruption >= barge) push(s.bargeIn, barge / rate, ((frame - barge) / rate) * 1000, ((frame - s.lastInterruption) / rate) * 1000);
    else s.notInterrupted++;
  };

  let last = performance.now();
  s.lagTimer = setInterval(() => {
    const now = performance.now();
    push(s.lag, context.currentTime, Math.max(0, now - last - lagTickMs));
    last = now;
  }, lagTickMs);
  s.mark = () => ({
    t: context.currentTime,
    underruns: s.underruns,
    overflow: s.overflow,
    transcript: el.transcript.length,
    shadowNodes: el.shadowRoot.querySelectorAll('*').length,
  });
  return { sessionId };
}

/** Ends the call, waits for it to release everything, and summarises the records per window. */
async function soakStop(windows) {
  const s = window.__soak;
  clearInterval(s.lagTimer);
  await s.el.stop();
  s.el.remove();
  const { contexts, sockets, streams } = s.opened;
  const open = () => ({
    openAudioContexts: contexts.filter((c) => c.state !== 'closed').length,
    openSockets: sockets.filter((k) => k.readyState !== WebSocket.CLOSED).length,
    liveTracks: streams.flatMap((k) => k.getTracks()).filter((t) => t.readyState === 'live').length,
  });
  for (let i = 0; i < 60 && Object.values(open()).some((n) => n > 0); i++) await new Promise((resolve) => setTimeout(resolve, 50));

  const column = (t, index, from, to) => {
    const values = [];
    for (let row = 0; row < t.n; row++) {
      const at = t.data[row * t.columns];
      if (at >= from && at < to) values.push(t.data[row * t.columns + index]);
    }
    return values;
  };
  const summary = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const pick = (q) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] * 10) / 10 : null);
    return { n: sorted.length, median: pick(0.5), p95: pick(0.95), max: sorted.length ? Math.round(sorted.at(-1) * 10) / 10 : null };
  };
  const windowed = (t, index) => ({
    first: summary(column(t, index, ...windows[0])),
    last: summary(column(t, index, ...windows[1])),
    all: summary(column(t, index, -Infinity, Infinity)),
  });
  return {
    replyLatencyMs: windowed(s.reply, 1),
    bargeInMs: windowed(s.bargeIn, 1),
    clearMs: windowed(s.bargeIn, 2),
    eventLoopLagMs: windowed(s.lag, 1),
    bargeInsNotInterrupted: s.notInterrupted,
    afterStop: open(),
  };
}
