#!/usr/bin/env node
/**
 * `npm run bench`: measures what the widget costs and how fast it reacts, and prints the figures as
 * JSON. Not a test: it asserts nothing, and the numbers vary with the machine.
 *
 * - bundle: bytes, gzip and brotli of the shipped files (the default bundle's budget: 24 KB gzip).
 * - firstRender: a fresh page imports the bundle (define) and renders the closed launcher: ms, layouts,
 *   style recalculations and network requests made by that first render.
 * - connect: click → connected, and click → first microphone frame on the socket (local agent).
 * - capture: the cadence of the 20 ms frames on the socket over a few seconds.
 * - bargeIn: interrupt() → the player confirms the clear (main → audio thread → main), and
 *   interrupt() → the output meter reads silence (includes the meter's 1024-sample window).
 * - mainThread: main-thread task and script time per second of a voice call.
 * - memory: JS heap after garbage collection before and after many sessions, and what stays open.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import puppeteer from 'puppeteer-core';
import { LocalAgent, createTokenHandler } from '../dist/server/index.js';
import { chromiumWithMicrophone, findChrome } from '../test/support/chrome.mjs';
import { ensureFixtures } from '../test/support/fixtures.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const CAPTURE_SECONDS = 4;
const BARGE_IN_RUNS = 20;
const SESSIONS = 30;

const results = { bundle: bundleSizes() };

const chrome = findChrome();
if (!chrome) throw new Error('No Chromium found: set CHROME_PATH (npm test installs one on Debian).');
const { speechLoop } = await ensureFixtures(root);
const engineModule = await bundleEngine();
const agent = await LocalAgent.start();
const server = await serve();
const origin = `http://127.0.0.1:${server.address().port}`;
const browser = await puppeteer.launch({
  executablePath: chrome,
  headless: true,
  args: chromiumWithMicrophone(speechLoop),
});

try {
  const page = await browser.newPage();
  const cdp = await page.createCDPSession();
  await cdp.send('Performance.enable');
  await page.goto(`${origin}/bench`);
  await page.waitForFunction(() => customElements.get('voice-agent'));

  results.firstRender = await measureFirstRender(5);
  results.connect = await page.evaluate(measureConnect, 5);
  results.capture = await page.evaluate(measureCapture, CAPTURE_SECONDS);
  results.bargeIn = await page.evaluate(measureBargeIn, BARGE_IN_RUNS);
  results.mainThread = await measureMainThread(page, cdp);
  results.memory = await measureMemory(page, cdp);
} finally {
  await browser.close();
  await agent.close();
  server.close();
}

console.log(JSON.stringify(results, null, 2));

// ───────────────────────────────── Node side ─────────────────────────────────

function bundleSizes() {
  const sizes = {};
  const locales = ['es', 'fr', 'de', 'hi', 'ar'].map((lang) => `locales/${lang}.js`);
  for (const file of ['voice-agent.js', 'worklets/capture-processor.js', 'worklets/playback-processor.js', ...locales]) {
    const bytes = readFileSync(`${root}dist/${file}`);
    sizes[file] = { bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, brotli: brotliCompressSync(bytes).length };
  }
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
      await import('/dist/voice-agent.js');
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
  const page = `<!doctype html><meta charset="utf-8"><script type="module" src="/dist/voice-agent.js"></script><body></body>`;
  let tokens;
  const http = createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://x');
    if (pathname === '/api/voice-token') return tokens(req, res);
    if (pathname === '/bench') return res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    if (pathname === '/bench/blank') return res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><meta charset="utf-8"><body></body>');
    if (pathname === '/bench/engine.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(engineModule);
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
  tokens = createTokenHandler({
    apiKey: 'sk_local_dev',
    baseUrl: agent.restBaseUrl,
    connectUrl: agent.connectUrl,
    allowedOrigins: [`http://127.0.0.1:${http.address().port}`],
  });
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
  return {
    callSeconds: round(wall),
    taskMsPerSecond: round(((after.TaskDuration - before.TaskDuration) * 1000) / wall),
    scriptMsPerSecond: round(((after.ScriptDuration - before.ScriptDuration) * 1000) / wall),
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

async function measureBargeIn(runs) {
  const { AudioEngine } = await import('/bench/engine.js');
  const stats = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return { median: Math.round(s[Math.floor(s.length / 2)] * 100) / 100, p95: Math.round(s[Math.floor(s.length * 0.95)] * 100) / 100 };
  };
  const tone = new Int16Array(24000 * 2);
  for (let i = 0; i < tone.length; i++) tone[i] = Math.round(16384 * Math.sin((2 * Math.PI * 440 * i) / 24000));
  const clear = [];
  const silent = [];
  let sampleRate = 0;
  for (let i = 0; i < runs; i++) {
    const engine = AudioEngine.prepare({ worklets: { baseUrl: '/dist/worklets/' } });
    sampleRate = engine.sampleRate;
    await engine.start(24000);
    engine.enqueue(tone.slice());
    while (engine.outputLevel < 0.1) await new Promise((resolve) => setTimeout(resolve, 5));
    const port = engine._playback.port;
    const cleared = new Promise((resolve) =>
      port.addEventListener('message', (event) => event.data.type === 'cleared' && resolve(performance.now())),
    );
    const t0 = performance.now();
    engine.interrupt();
    clear.push((await cleared) - t0);
    while (engine.outputLevel >= 0.001) await new Promise((resolve) => setTimeout(resolve, 0));
    silent.push(performance.now() - t0);
    await engine.close();
  }
  return {
    runs,
    contextSampleRate: sampleRate,
    renderQuantumMs: Math.round((128 / sampleRate) * 1000 * 100) / 100,
    clearConfirmedMs: stats(clear),
    silentAtOutputMs: stats(silent),
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
