#!/usr/bin/env node
/**
 * `npm run bench`: measures what the widget costs and how fast it reacts, and prints the figures as
 * JSON. Not a test: it asserts nothing, and the numbers vary with the machine.
 *
 * - bundle: bytes, gzip and brotli of the CDN files (the default bundle's budget: 24 KB gzip), and
 *   what a voice call downloads in all (bundle, call engine, worklets).
 * - firstRender: a fresh page imports the bundle (define) and renders the closed launcher: ms, layouts,
 *   style recalculations and network requests made by that first render.
 * - connect: click → connected, and click → first microphone frame on the socket (local agent).
 * - capture: the cadence of the 20 ms frames on the socket over a few seconds.
 * - jitter: a bursty, late delivery profile played into the adaptive jitter buffer and into a fixed
 *   250 ms prebuffer side by side: underruns, mean buffered ms, reply start delay.
 * - playbackStartMs: a reply's first audio frame arrives → its first non-silent sample is rendered
 *   (output tap on the audio thread), with the adaptive buffer and with the fixed 250 ms one.
 * - bargeIn: samples of the old reply rendered after the interruption, and the time to silence,
 *   from an output tap on the audio thread, over many interruptions; the clear's round trip.
 * - echo: echo return loss and added latency of the plain and echo-safe playback paths, through a
 *   real acoustic loop (PulseAudio: the speaker's monitor is the microphone).
 * - mainThread: main-thread task and script time per second (and per minute) of a voice call.
 * - audioThread: worklet time per render quantum, from the worklets' own clocks.
 * - memory: JS heap after garbage collection before and after many sessions, and what stays open.
 *
 * `npm run bench -- --soak 10m` (or `30s`, `2m`; a bare number is seconds) runs instead one long
 * voice call with a barge-in every few seconds and prints how its figures drift (bench/soak.mjs).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import puppeteer from 'puppeteer-core';
import { createTokenHandler, toNodeHandler } from '../dist/server/index.js';
import { LocalAgent } from '../dist/local-agent/index.js';
import { chromiumWithMicrophone, findChrome } from '../test/support/chrome.mjs';
import { ensureFixtures } from '../test/support/fixtures.mjs';
import { measureAudioThread, measureBargeIn, measureJitter, measurePlaybackStart } from './audio.mjs';
import { measureEcho } from './echo.mjs';
import { measureSoak, parseDuration, soakFixture } from './soak.mjs';
import { jitterProfile, simulate } from '../test/support/worklet-sim.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const CAPTURE_SECONDS = 4;
const BARGE_IN_RUNS = 60;
const PLAYBACK_START_RUNS = 12;
const SESSIONS = 30;

/** `--only jitter,bargeIn` runs just those measurements (for working on one); the default is all. */
const { values: args } = parseArgs({ options: { only: { type: 'string' }, soak: { type: 'string' } } });
const only = args.only?.split(',');
const want = (name) => !only || only.includes(name);
const soakSeconds = args.soak === undefined ? undefined : parseDuration(args.soak);
if (args.soak !== undefined && !(soakSeconds >= 30)) {
  console.error(`--soak takes a duration of at least 30 s, such as 90s, 2m or 10m (got "${args.soak}").`);
  process.exit(2);
}
const results = soakSeconds ? { machine: {} } : { machine: {}, bundle: bundleSizes() };

const chrome = findChrome();
if (!chrome) throw new Error('No Chromium found: set CHROME_PATH (npm test installs one on Debian).');
const { speechLoop } = await ensureFixtures(root);
const soak = soakSeconds ? await soakFixture(root) : undefined;
const engineModule = await bundleEngine();
const agent = await LocalAgent.start();
const server = await serve();
const origin = `http://127.0.0.1:${server.address().port}`;
const browser = await puppeteer.launch({
  executablePath: chrome,
  headless: true,
  args: chromiumWithMicrophone(soak ? soak.wav : speechLoop),
});

try {
  const page = await browser.newPage();
  const cdp = await page.createCDPSession();
  await cdp.send('Performance.enable');
  await page.goto(`${origin}/bench`);
  await page.waitForFunction(() => customElements.get('voice-agent'));

  results.machine = {
    browser: await browser.version(),
    contextSampleRate: await page.evaluate(() => new AudioContext().sampleRate),
    cpus: (await import('node:os')).cpus().length,
  };
  if (soak) {
    results.soak = await measureSoak({ browser, origin, agent, seconds: soakSeconds, fixture: soak, log: (line) => console.error(line) });
  } else {
    await measureAll(page, cdp);
  }
} finally {
  await browser.close();
  await agent.close();
  server.close();
}

console.log(JSON.stringify(results, null, 2));
if (soak) console.log(soakTable(results.soak));
else if (!only) console.log(table(results));

async function measureAll(page, cdp) {
  if (want('firstRender')) results.firstRender = await measureFirstRender(5);
  if (want('connect')) results.connect = await page.evaluate(measureConnect, 5);
  if (want('capture')) results.capture = await page.evaluate(measureCapture, CAPTURE_SECONDS);
  if (want('jitter')) {
    results.jitter = await page.evaluate(measureJitter, {});
    results.jitter.simulated = await simulateJitter([7, 11, 42]);
  }
  if (want('playbackStartMs')) {
    results.playbackStartMs = {
      adaptive: await page.evaluate(measurePlaybackStart, PLAYBACK_START_RUNS, undefined),
      fixed250: await page.evaluate(measurePlaybackStart, PLAYBACK_START_RUNS, { audio: { prebufferMs: 250, adaptiveBuffer: false } }),
    };
  }
  if (want('bargeIn')) results.bargeIn = await page.evaluate(measureBargeIn, BARGE_IN_RUNS);
  if (want('mainThread')) results.mainThread = await measureMainThread(page, cdp);
  if (want('audioThread')) results.audioThread = await page.evaluate(measureAudioThread, 4);
  if (want('memory')) results.memory = await measureMemory(page, cdp);
  // A browser of its own, on a PulseAudio loop (the speaker's monitor is the microphone).
  if (want('echo')) results.echo = await measureEcho({ chrome, root, origin });
}

// ───────────────────────────────── Node side ─────────────────────────────────

function bundleSizes() {
  const sizes = {};
  const cdn = `${root}dist/cdn/`;
  const locales = ['es', 'fr', 'de', 'hi', 'ar'].map((lang) => `locales/${lang}.js`);
  const chunks = readdirSync(cdn).filter((f) => /^voice-agent-[\w-]+\.js$/.test(f)).sort();
  const files = ['voice-agent.js', ...chunks, 'voice-agent.standalone.js', 'voice-agent.iife.js', 'worklets/capture-processor.js', 'worklets/playback-processor.js'];
  for (const file of [...files, ...locales]) {
    const bytes = readFileSync(`${cdn}${file}`);
    sizes[file] = { bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, brotli: brotliCompressSync(bytes).length };
  }
  // What a voice call downloads: the bundle (first paint), the engine and what it imports, the worklets.
  const call = ['voice-agent.js', 'voice-agent-engine.js', 'voice-agent-devices.js', 'worklets/capture-processor.js', 'worklets/playback-processor.js'];
  sizes.voiceCall = { files: call, gzip: call.reduce((n, file) => n + sizes[file].gzip, 0) };
  return sizes;
}

/** The audio engine alone, as an ES module, for the barge-in measurement. */
async function bundleEngine() {
  const { outputFiles } = await build({
    entryPoints: [`${root}src/audio/audio-engine.ts`],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    write: false,
    tsconfig: `${root}src/tsconfig.json`,
  });
  return outputFiles[0].text;
}

/**
 * A fresh page, no cache: import the bundle (parse, evaluate, define), then render the closed
 * launcher. Median of `runs` pages.
 */
async function measureFirstRender(runs) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const tab = await browser.newPage();
    await tab.setCacheEnabled(false);
    const cdp = await tab.createCDPSession();
    await cdp.send('Performance.enable');
    await tab.goto(`${origin}/bench/blank`);
    const metric = async (name) => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === name).value;
    const before = { layouts: await metric('LayoutCount'), styles: await metric('RecalcStyleCount') };
    const timing = await tab.evaluate(async () => {
      const t0 = performance.now();
      await import('/dist/cdn/voice-agent.js');
      const defined = performance.now() - t0;
      const requests = performance.getEntriesByType('resource').length;
      const el = document.createElement('voice-agent');
      el.setAttribute('agent-name', 'Ada');
      const t1 = performance.now();
      document.body.append(el);
      await el.updateComplete;
      await new Promise((resolve) => requestAnimationFrame(() => resolve()));
      return { defineMs: defined, renderMs: performance.now() - t1, requests: performance.getEntriesByType('resource').length - requests };
    });
    samples.push({ ...timing, layouts: (await metric('LayoutCount')) - before.layouts, styleRecalcs: (await metric('RecalcStyleCount')) - before.styles });
    await tab.close();
  }
  const median = (key) => samples.map((s) => s[key]).sort((a, b) => a - b)[Math.floor(samples.length / 2)];
  return {
    runs,
    defineMs: round(median('defineMs')),
    renderMs: round(median('renderMs')),
    layouts: median('layouts'),
    styleRecalcs: median('styleRecalcs'),
    networkRequestsDuringRender: Math.max(...samples.map((s) => s.requests)),
  };
}

async function serve() {
  const page = `<!doctype html><meta charset="utf-8"><script type="module" src="/dist/cdn/voice-agent.js"></script><body></body>`;
  let tokens;
  const http = createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://x');
    if (pathname === '/api/voice-token') return tokens(req, res);
    if (pathname === '/bench') return res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    if (pathname === '/bench/blank') return res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><meta charset="utf-8"><body></body>');
    if (pathname === '/bench/engine.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(engineModule);
    if (pathname === '/bench/output-tap.js') {
      return res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(`${root}test/support/output-tap.js`));
    }
    if (pathname === '/bench/soak-tap.js') {
      return res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(`${root}bench/soak-tap.js`));
    }
    if (pathname === '/bench/page-tools.js') {
      return res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(`${root}bench/page-tools.js`));
    }
    if (/^\/dist\/[\w/-]+\.js$/.test(pathname)) {
      try {
        return res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(`${root}${pathname.slice(1)}`));
      } catch {
        // not built: 404
      }
    }
    res.writeHead(404).end();
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  tokens = toNodeHandler(
    createTokenHandler({
      apiKey: 'sk_local_dev',
      upstream: agent.restBaseUrl,
      connectUrl: agent.connectUrl,
      allowedOrigins: [`http://127.0.0.1:${http.address().port}`],
      rateLimit: false, // the memory run makes many calls in a minute
    }),
  );
  return http;
}

async function metrics(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
}

async function measureMainThread(page, cdp) {
  await page.evaluate(() => {
    const el = document.createElement('voice-agent');
    el.id = 'main-thread';
    el.setAttribute('agent-id', 'bench');
    el.setAttribute('token-endpoint', '/api/voice-token');
    document.body.append(el);
    return el.start();
  });
  const seconds = 8;
  const before = await metrics(cdp);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const after = await metrics(cdp);
  await page.evaluate(() => document.getElementById('main-thread').stop().then(() => document.getElementById('main-thread').remove()));
  const wall = after.Timestamp - before.Timestamp;
  const taskMsPerSecond = ((after.TaskDuration - before.TaskDuration) * 1000) / wall;
  return {
    callSeconds: round(wall),
    taskMsPerSecond: round(taskMsPerSecond),
    scriptMsPerSecond: round(((after.ScriptDuration - before.ScriptDuration) * 1000) / wall),
    mainThreadMsPerMin: Math.round(taskMsPerSecond * 60),
  };
}

async function measureMemory(page, cdp) {
  const heap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    return (await metrics(cdp)).JSHeapUsedSize;
  };
  await page.evaluate(runSessions, 3, 'webcall'); // warm up
  const before = await heap();
  const counts = await page.evaluate(runSessions, SESSIONS, 'webcall');
  const after = await heap();
  return {
    sessions: SESSIONS,
    heapBeforeKB: round(before / 1024),
    heapAfterKB: round(after / 1024),
    growthPerSessionKB: round((after - before) / 1024 / SESSIONS),
    ...counts,
  };
}

/**
 * The same profile through the built player on a simulated audio clock (no main-thread timers, no
 * other load): what the algorithm itself does, per seed.
 */
async function simulateJitter(seeds) {
  const out = { note: 'the built player worklet in Node, on a simulated audio clock at 48 kHz' };
  for (const [name, options] of [
    ['adaptive', { prebufferMs: 40, maxBufferMs: 400, adaptive: true }],
    ['fixed250', { prebufferMs: 250, maxBufferMs: 250, adaptive: false }],
  ]) {
    out[name] = [];
    for (const seed of seeds) {
      const { stats, underrunsByReply } = await simulate(jitterProfile({ seed }), options);
      out[name].push({ seed, underruns: stats.underruns, underrunsAfterFirstReply: stats.underruns - underrunsByReply[0], meanBufferedMs: Math.round(stats.meanBufferedMs) });
    }
  }
  return out;
}

/** The headline figures as a short table, each beside its baseline where there is one. */
function table(r) {
  const rows = [
    ['browser', `${r.machine.browser}, context ${r.machine.contextSampleRate} Hz, ${r.machine.cpus} CPUs`],
    ['bundle (gzip)', `${r.bundle['voice-agent.js'].gzip} B first paint | ${r.bundle.voiceCall.gzip} B for a voice call (engine, worklets) | single file ${r.bundle['voice-agent.standalone.js'].gzip} B`],
    ['connect / first frame', `${r.connect.timeToConnectMs} / ${r.connect.timeToFirstFrameMs} ms`],
    ['jitter: underruns (after 1st reply)', `adaptive ${r.jitter.adaptive.underruns} (${r.jitter.adaptive.underrunsAfterFirstReply}) | fixed 250 ms ${r.jitter.fixed250.underruns} (${r.jitter.fixed250.underrunsAfterFirstReply})`],
    ['jitter: mean buffered', `adaptive ${r.jitter.adaptive.meanBufferedMs} ms | fixed 250 ms ${r.jitter.fixed250.meanBufferedMs} ms`],
    [
      'jitter, simulated clock (3 seeds)',
      `adaptive ${r.jitter.simulated.adaptive.map((x) => `${x.underruns}(${x.underrunsAfterFirstReply})/${x.meanBufferedMs}ms`).join(' ')} | fixed 250 ms ${r.jitter.simulated.fixed250.map((x) => `${x.underruns}/${x.meanBufferedMs}ms`).join(' ')}`,
    ],
    ['playback start (median/p95)', `adaptive ${r.playbackStartMs.adaptive.median}/${r.playbackStartMs.adaptive.p95} ms | fixed 250 ms ${r.playbackStartMs.fixed250.median}/${r.playbackStartMs.fixed250.p95} ms`],
    ['barge-in old samples (median/p95/max)', `${Object.values(r.bargeIn.oldSamplesAfterInterruption).join('/')} over ${r.bargeIn.runs} runs`],
    ['barge-in time to silence (median/p95)', `${r.bargeIn.timeToSilenceMs.median}/${r.bargeIn.timeToSilenceMs.p95} ms`],
    ...(r.echo?.plain
      ? [
          ['echo return loss', `plain ${r.echo.plain.echoReturnLossDb} dB | echo-safe ${r.echo.echoSafe.echoReturnLossDb} dB`],
          ['echo path latency', `plain ${r.echo.plain.addedLatencyMs} ms | echo-safe ${r.echo.echoSafe.addedLatencyMs} ms`],
        ]
      : []),
    ['main thread', `${r.mainThread.mainThreadMsPerMin} ms/min (${r.mainThread.taskMsPerSecond} ms/s)`],
    ['audio thread', `${r.audioThread.loadPercentOfQuantum} % of a quantum`],
    ['memory', `${r.memory.growthPerSessionKB} KB/session, ${r.memory.openAudioContexts} contexts, ${r.memory.openSockets} sockets open`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

/** The soak's headline figures: first window → last window. */
function soakTable(s) {
  const pair = (f) => `${f.first.median}/${f.first.p95} → ${f.last.median}/${f.last.p95} ms (median/p95, first → last ${s.windowSeconds} s)`;
  const rows = [
    ['soak', `${s.seconds} s, ${s.counts.turns} turns, ${s.counts.bargeIns} barge-ins (${s.counts.interruptions} interruptions), ${s.counts.underruns} underruns`],
    ['reply latency', pair(s.replyLatencyMs)],
    ['barge-in', pair(s.bargeInMs)],
    ['clear', pair(s.clearMs)],
    ['event loop lag', `p95 ${s.eventLoopLagMs.first.p95} → ${s.eventLoopLagMs.last.p95} ms, max ${s.eventLoopLagMs.all.max} ms`],
    ['main thread', `${s.mainThreadMsPerSecond.first} → ${s.mainThreadMsPerSecond.last} ms/s`],
    ['JS heap', `${s.heapKB.start} → ${s.heapKB.end} KB (${s.growth.heapKBPerMinute} KB/min), ${s.heapKB.afterStop} KB after stop`],
    ['after stop', `${s.afterStop.openAudioContexts} contexts, ${s.afterStop.openSockets} sockets, ${s.afterStop.liveTracks} tracks open`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

function round(value) {
  return Math.round(value * 100) / 100;
}

// ───────────────────────────────── In the page ─────────────────────────────────
// These functions are serialised by page.evaluate: they may use only their arguments and page globals.

async function measureConnect(runs) {
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const connect = [];
  const firstFrame = [];
  const send = WebSocket.prototype.send;
  for (let i = 0; i < runs; i++) {
    const el = document.createElement('voice-agent');
    el.setAttribute('agent-id', 'bench');
    el.setAttribute('token-endpoint', '/api/voice-token');
    el.setAttribute('variables', '{"greeting":""}');
    document.body.append(el);
    let first;
    const framed = new Promise((resolve) => {
      WebSocket.prototype.send = function (data) {
        if (first === undefined && String(data).includes('input_audio_buffer.append')) resolve((first = performance.now()));
        return send.call(this, data);
      };
    });
    const t0 = performance.now();
    await el.start();
    connect.push(performance.now() - t0);
    firstFrame.push((await framed) - t0);
    WebSocket.prototype.send = send;
    await el.stop();
    el.remove();
  }
  return { runs, timeToConnectMs: Math.round(median(connect)), timeToFirstFrameMs: Math.round(median(firstFrame)) };
}

async function measureCapture(seconds) {
  const el = document.createElement('voice-agent');
  el.setAttribute('agent-id', 'bench');
  el.setAttribute('token-endpoint', '/api/voice-token');
  el.setAttribute('variables', '{"greeting":""}');
  document.body.append(el);
  const times = [];
  const sizes = new Set();
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    const text = String(data);
    if (text.includes('input_audio_buffer.append')) {
      times.push(performance.now());
      sizes.add((atob(JSON.parse(text).audio).length / 2) | 0);
    }
    return send.call(this, data);
  };
  await el.start();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  WebSocket.prototype.send = send;
  await el.stop();
  el.remove();
  const intervals = times.slice(1).map((t, i) => t - times[i]);
  const sorted = intervals.map((x) => Math.abs(x - 20)).sort((a, b) => a - b);
  const mean = intervals.reduce((a, b) => a + b, 0) / intervals.length;
  return {
    frames: times.length,
    frameSamples: [...sizes],
    framesPerSecond: Math.round((times.length / ((times.at(-1) - times[0]) / 1000)) * 10) / 10,
    meanIntervalMs: Math.round(mean * 100) / 100,
    p95JitterMs: Math.round(sorted[Math.floor(sorted.length * 0.95)] * 100) / 100,
    maxIntervalMs: Math.round(Math.max(...intervals) * 100) / 100,
  };
}

async function runSessions(count, mode) {
  const contexts = [];
  const sockets = [];
  const RealAudioContext = window.AudioContext;
  const RealWebSocket = window.WebSocket;
  window.AudioContext = class extends RealAudioContext {
    constructor(options) {
      super(options);
      contexts.push(new WeakRef(this));
    }
  };
  window.WebSocket = class extends RealWebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      sockets.push(new WeakRef(this));
    }
  };
  for (let i = 0; i < count; i++) {
    const el = document.createElement('voice-agent');
    el.setAttribute('agent-id', 'bench');
    el.setAttribute('mode', mode);
    el.setAttribute('token-endpoint', '/api/voice-token');
    el.setAttribute('variables', '{"greeting":"Hello there."}');
    document.body.append(el);
    await el.start();
    el.remove(); // removal ends the call
    await new Promise((resolve) => el.addEventListener('va-status-change', (e) => e.detail.status === 'disconnected' && resolve(), { once: false }));
  }
  window.AudioContext = RealAudioContext;
  window.WebSocket = RealWebSocket;
  await new Promise((resolve) => setTimeout(resolve, 500));
  return {
    openAudioContexts: contexts.filter((ref) => ref.deref() && ref.deref().state !== 'closed').length,
    openSockets: sockets.filter((ref) => ref.deref() && ref.deref().readyState !== WebSocket.CLOSED).length,
  };
}
