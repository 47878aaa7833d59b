#!/usr/bin/env node
/**
 * Echo through a real acoustic loop: how much of the agent's own voice comes back on the microphone
 * after the browser's echo canceller, with the player's plain output (Web Audio → destination) and
 * with the echo-safe route (loopback RTCPeerConnection → `<audio>`), through the real AudioEngine.
 *
 * The loop: a private PulseAudio server whose default output is a null sink and whose default input
 * is a source remapped over that sink's monitor, so whatever the page plays re-enters its microphone,
 * digitally, at the same level. Chromium runs headless on it with its real audio devices (no fake
 * capture device) and the widget's microphone constraints (echo cancellation, noise suppression,
 * auto gain).
 *
 * For each path, runs interleaved:
 * - latency: 10 ms noise clicks every 0.5 s with the canceller off; the median delay from the
 *   player's output to the microphone is the loop's latency (`latencyMs`); `addedLatencyMs` is that
 *   minus the plain path's. The same run's level gives `loopGainDb` (about 0 dB: the loop works).
 * - echo return loss: 14 s of agent audio with the canceller on; the player's output level over the
 *   microphone's level, after the first 4 s (the canceller has converged by then), in dB (higher is
 *   less echo; about 0 dB is no cancellation at all). `echoReturnLossDb` plays speech-shaped noise
 *   in syllable-length bursts; `speechEchoReturnLossDb` plays the suite's synthetic speech.
 * - `chromeWideEchoCancellation`: whether this Chromium cancels everything it plays (Web Audio
 *   included) as chrome://media-internals reports it; where it does not, only WebRTC playback is
 *   the canceller's reference.
 *
 * `node bench/echo.mjs [--runs 3] [--chrome-arg=--disable-features=ChromeWideEchoCancellation]`
 * prints the JSON; `bench/run.mjs` calls measureEcho().
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { build } from 'esbuild';
import puppeteer from 'puppeteer-core';

const RATE = 24000;
const ERL_SECONDS = 14;
const CONVERGE_SECONDS = 4;
const LATENCY_SECONDS = 4;
const PATHS = { plain: 'direct', echoSafe: 'echo-safe' };

/**
 * Measures both playback paths. `origin`: a server of bench/run.mjs's (serving `/bench/blank`,
 * `/bench/engine.js` and `/dist/worklets/`); without one, a server of its own serves the engine and
 * worklets built from source. `chromeArgs` are added to Chromium's arguments.
 */
export async function measureEcho({ chrome, root, origin, runs = 3, chromeArgs = [] }) {
  const { synthesizeSpeech } = await import(`${root}dist/local-agent/index.js`);
  const { SPEECH_PHRASE } = await import(`${root}test/support/fixtures.mjs`);
  const signals = { clicks: clicks(LATENCY_SECONDS), noise: speechShapedNoise(ERL_SECONDS), speech: repeatSpeech(synthesizeSpeech(SPEECH_PHRASE, RATE).pcm, ERL_SECONDS) };
  const own = origin ? undefined : await serveEngine(root);
  const urls = origin
    ? { page: `${origin}/bench/blank`, engine: '/bench/engine.js', worklets: '/dist/worklets/' }
    : { page: `${own.origin}/echo`, engine: '/echo/engine.js', worklets: '/echo/worklets/' };
  const pulse = await startLoop();
  let browser;
  try {
    browser = await puppeteer.launch({
      executablePath: chrome,
      headless: true,
      // Puppeteer mutes audio by default: the loop needs it audible.
      ignoreDefaultArgs: ['--mute-audio'],
      env: { ...process.env, ...pulse.env },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--autoplay-policy=no-user-gesture-required',
        '--use-fake-ui-for-media-stream',
        ...chromeArgs,
      ],
    });
    const run = async (path, signal, ec) => {
      const page = await browser.newPage();
      try {
        await page.goto(urls.page);
        const pcm = Buffer.from(signals[signal].buffer).toString('base64');
        return await page.evaluate(measureInPage, { ...urls, playback: PATHS[path], pcm, ec, clicks: signal === 'clicks', skipSeconds: signal === 'clicks' ? 0 : CONVERGE_SECONDS });
      } finally {
        await page.close();
      }
    };
    const samples = { plain: [], echoSafe: [] };
    for (let i = 0; i < runs; i++) {
      for (const path of Object.keys(PATHS)) {
        samples[path].push({ latency: await run(path, 'clicks', false), noise: await run(path, 'noise', true), speech: await run(path, 'speech', true) });
      }
    }
    const result = {
      browser: await browser.version(),
      contextSampleRate: samples.plain[0].noise.contextSampleRate,
      runs,
      chromeWideEchoCancellation: await chromeWideEchoCancellation(browser),
    };
    const plainLatency = median(samples.plain.map((s) => s.latency.latencyMs));
    for (const path of Object.keys(PATHS)) {
      const s = samples[path];
      if (s.some((r) => [r.latency, r.noise, r.speech].some((x) => x.route !== PATHS[path]))) throw new Error(`The engine did not play through the ${PATHS[path]} route.`);
      const latencyMs = median(s.map((r) => r.latency.latencyMs));
      const loopGainDb = median(s.map((r) => r.latency.gainDb));
      if (!(loopGainDb > -20)) throw new Error(`Nothing came back through the PulseAudio loop on the ${PATHS[path]} path (loop gain ${loopGainDb} dB).`);
      result[path] = {
        echoReturnLossDb: median(s.map((r) => r.noise.echoReturnLossDb)),
        addedLatencyMs: round(latencyMs - plainLatency),
        latencyMs,
        speechEchoReturnLossDb: median(s.map((r) => r.speech.echoReturnLossDb)),
        loopGainDb,
        echoReturnLossRunsDb: s.map((r) => r.noise.echoReturnLossDb),
        speechEchoReturnLossRunsDb: s.map((r) => r.speech.echoReturnLossDb),
      };
    }
    result.note = note(result);
    return result;
  } finally {
    await browser?.close();
    await pulse.stop();
    own?.close();
  }
}

function note({ chromeWideEchoCancellation, plain, echoSafe }) {
  const better = echoSafe.echoReturnLossDb - plain.echoReturnLossDb;
  return [
    `Chrome-wide echo cancellation is ${chromeWideEchoCancellation ? 'on: Web Audio output is in the reference' : 'off: only WebRTC playback is in the reference'}.`,
    `The echo-safe path returns ${Math.abs(round(better))} dB ${better >= 0 ? 'less' : 'more'} echo than the plain one and adds ${echoSafe.addedLatencyMs} ms.`,
    'Medians of interleaved runs; single runs vary by 10 dB or more.',
  ].join(' ');
}

// ───────────────────────────────── Node side ─────────────────────────────────

/** A PulseAudio server of its own whose microphone hears its speaker. */
async function startLoop() {
  const dir = mkdtempSync(`${tmpdir()}/va-echo-`);
  const socket = `${dir}/native`;
  const env = { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir, XDG_CONFIG_HOME: dir, PULSE_SERVER: `unix:${socket}` };
  delete env.DISPLAY;
  const server = spawn(
    'pulseaudio',
    [
      '--daemonize=no',
      '--exit-idle-time=-1',
      '--disallow-exit',
      '-n',
      '--log-level=error',
      `--load=module-native-protocol-unix socket=${socket} auth-anonymous=1`,
      '--load=module-null-sink sink_name=speaker rate=48000 sink_properties=device.description=Speaker',
      // Chromium, like WebKit, may skip monitor sources as inputs: the monitor remapped is an ordinary one.
      '--load=module-remap-source master=speaker.monitor source_name=mic channels=1 source_properties=device.description=Microphone',
    ],
    { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let log = '';
  server.stderr.on('data', (chunk) => (log += chunk));
  const exited = new Promise((resolve) => server.once('exit', resolve));
  const pactl = (...args) => spawnSync('pactl', args, { env, encoding: 'utf8' });
  const stop = async () => {
    if (server.exitCode === null) {
      process.kill(-server.pid, 'SIGTERM');
      await Promise.race([exited, delay(3000)]);
      if (server.exitCode === null) process.kill(-server.pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; !existsSync(socket) || pactl('info').status !== 0; i++) {
    if (server.exitCode !== null || i > 100) {
      await stop();
      throw new Error(`PulseAudio did not start: ${log.trim() || `exit code ${server.exitCode}`}`);
    }
    await delay(50);
  }
  pactl('set-default-sink', 'speaker');
  pactl('set-default-source', 'mic');
  return { env: { PULSE_SERVER: env.PULSE_SERVER }, stop };
}

/** The engine and the worklets, built from source, on 127.0.0.1. */
async function serveEngine(root) {
  const bundle = async (entry) =>
    (await build({ entryPoints: [`${root}${entry}`], bundle: true, format: 'esm', target: 'es2022', write: false, tsconfig: `${root}${entry.split('/')[0]}/tsconfig.json` })).outputFiles[0].text;
  const files = {
    '/echo/engine.js': await bundle('src/audio/audio-engine.ts'),
    '/echo/worklets/capture-processor.js': await bundle('worklets/capture-processor.ts'),
    '/echo/worklets/playback-processor.js': await bundle('worklets/playback-processor.ts'),
  };
  const http = createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://x');
    if (pathname === '/echo') return res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><meta charset="utf-8"><body></body>');
    if (files[pathname]) return res.writeHead(200, { 'content-type': 'text/javascript' }).end(files[pathname]);
    res.writeHead(404).end();
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${http.address().port}`, close: () => http.close() };
}

/** Whether chrome://media-internals reports ChromeWideEchoCancellation enabled (absent: not in this build). */
async function chromeWideEchoCancellation(browser) {
  const page = await browser.newPage();
  try {
    await page.goto('chrome://media-internals');
    const handle = await page.waitForFunction(
      () => [...document.querySelectorAll('td')].find((td) => td.textContent === 'ChromeWideEchoCancellation')?.nextElementSibling?.textContent,
      { timeout: 5000 },
    ).catch(() => undefined);
    const value = handle ? await handle.jsonValue() : '';
    return /Enabled/.test(value);
  } finally {
    await page.close();
  }
}

/** PCM16 at 24 kHz from floats. */
function pcm16(samples) {
  return Int16Array.from(samples, (x) => Math.round(Math.max(-1, Math.min(1, x)) * 32767));
}

/** A deterministic noise source in [-1, 1]. */
function noiseSource(seed) {
  return () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) * 2 - 1;
}

/** 10 ms white-noise clicks every 0.5 s, from 0.5 s on. */
function clicks(seconds) {
  const out = new Float32Array(seconds * RATE);
  const noise = noiseSource(1);
  for (let t = 0.5; t < seconds - 0.3; t += 0.5) for (let i = 0; i < RATE / 100; i++) out[Math.round(t * RATE) + i] = 0.5 * noise();
  return pcm16(out);
}

/** Low-passed noise (most energy below 4 kHz, like a voice) in 150–450 ms bursts with 80–300 ms gaps. */
function speechShapedNoise(seconds) {
  const out = new Float32Array(seconds * RATE);
  const noise = noiseSource(7);
  const pick = noiseSource(11);
  let lowpassed = 0;
  for (let at = Math.round(0.3 * RATE); at < out.length; ) {
    const length = Math.round((0.3 + 0.15 * pick()) * RATE);
    for (let i = at; i < Math.min(at + length, out.length); i++) out[i] = 0.4 * (lowpassed = 0.6 * lowpassed + 0.4 * noise());
    at += length + Math.round((0.19 + 0.11 * pick()) * RATE);
  }
  return pcm16(out);
}

/** The phrase over and over, 150 ms apart. */
function repeatSpeech(phrase, seconds) {
  const out = new Int16Array(seconds * RATE);
  for (let at = Math.round(0.3 * RATE); at < out.length; at += phrase.length + Math.round(0.15 * RATE)) {
    out.set(phrase.subarray(0, out.length - at), at);
  }
  return out;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function round(value) {
  return Math.round(value * 10) / 10;
}

// ───────────────────────────────── In the page ─────────────────────────────────
// Serialised by page.evaluate: it may use only its argument and page globals.

/**
 * One run: the engine plays `pcm` through `playback` while a recorder on the audio thread keeps, side
 * by side, the player's output and the microphone (the engine's own stream). `ec` false opens the
 * microphone with the browser's processing off.
 */
async function measureInPage({ engine: engineUrl, worklets, playback, pcm, ec, clicks, skipSeconds }) {
  const RECORDER = `registerProcessor('echo-recorder', class extends AudioWorkletProcessor {
    constructor({ processorOptions: { frames } }) {
      super();
      this.played = new Float32Array(frames);
      this.heard = new Float32Array(frames);
      this.at = -1;
      this.port.onmessage = () => (this.at = 0);
    }
    process([played, heard]) {
      if (this.at < 0 || this.at >= this.played.length) return true;
      const n = Math.min(128, this.played.length - this.at);
      if (played[0]) this.played.set(played[0].subarray(0, n), this.at);
      if (heard[0]) this.heard.set(heard[0].subarray(0, n), this.at);
      this.at += n;
      if (this.at === this.played.length) this.port.postMessage({ played: this.played, heard: this.heard });
      return true;
    }
  });`;
  const { AudioEngine } = await import(engineUrl);
  const off = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };
  const engine = AudioEngine.prepare({
    worklets: { baseUrl: worklets },
    playback,
    ...(ec ? {} : { getUserMedia: (c) => navigator.mediaDevices.getUserMedia({ audio: { ...c.audio, ...off } }) }),
  });
  try {
    await engine.openMicrophone();
    await engine.start(24000);
    const { context } = engine;
    const route = (await engine._route).input === context.destination ? 'direct' : 'echo-safe';
    const url = URL.createObjectURL(new Blob([RECORDER], { type: 'text/javascript' }));
    await context.audioWorklet.addModule(url);
    URL.revokeObjectURL(url);
    const bytes = Uint8Array.from(atob(pcm), (c) => c.charCodeAt(0));
    const samples = new Int16Array(bytes.buffer);
    const rate = context.sampleRate;
    const recorder = new AudioWorkletNode(context, 'echo-recorder', {
      numberOfInputs: 2,
      numberOfOutputs: 0,
      processorOptions: { frames: Math.round(((samples.length / 24000) + 0.5) * rate) },
    });
    engine._playback.connect(recorder, 0, 0);
    new MediaStreamAudioSourceNode(context, { mediaStream: engine._stream }).connect(recorder, 0, 1);
    // The microphone's first frames and the canceller's start-up.
    await new Promise((resolve) => setTimeout(resolve, 800));
    const recorded = new Promise((resolve) => (recorder.port.onmessage = ({ data }) => resolve(data)));
    recorder.port.postMessage('start');
    engine.enqueue(samples);
    engine.endReply();
    const { played, heard } = await recorded;
    recorder.disconnect();

    const rms = (x, from, to) => {
      let sum = 0;
      for (let i = from; i < to; i++) sum += x[i] * x[i];
      return Math.sqrt(sum / Math.max(1, to - from));
    };
    const db = (ratio) => Math.round(200 * Math.log10(ratio)) / 10;
    const result = { route, contextSampleRate: rate };
    if (clicks) {
      const onsets = (x, threshold) => {
        const found = [];
        for (let i = 0, last = -rate; i < x.length; i++) {
          if (Math.abs(x[i]) <= threshold) continue;
          if (i - last > rate * 0.3) found.push(i);
          last = i;
        }
        return found;
      };
      let peak = 0;
      for (const x of heard) peak = Math.max(peak, Math.abs(x));
      const heardOnsets = onsets(heard, peak * 0.2);
      const delays = onsets(played, 0.05)
        .map((p) => heardOnsets.find((h) => h >= p && h < p + rate * 0.45) - p)
        .filter((d) => d >= 0)
        .sort((a, b) => a - b);
      result.latencyMs = delays.length ? Math.round((delays[delays.length >> 1] / rate) * 10000) / 10 : NaN;
      result.gainDb = db(rms(heard, 0, heard.length) / rms(played, 0, played.length));
    } else {
      const skip = Math.round(skipSeconds * rate);
      result.echoReturnLossDb = db(rms(played, skip, played.length) / Math.max(rms(heard, skip, heard.length), 1e-7));
    }
    return result;
  } finally {
    await engine.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { findChrome } = await import('../test/support/chrome.mjs');
  const { values } = parseArgs({ options: { runs: { type: 'string' }, 'chrome-arg': { type: 'string', multiple: true } } });
  const chrome = findChrome();
  if (!chrome) throw new Error('No Chromium found: set CHROME_PATH.');
  const root = fileURLToPath(new URL('..', import.meta.url));
  const result = await measureEcho({ chrome, root, runs: values.runs ? Number(values.runs) : undefined, chromeArgs: values['chrome-arg'] ?? [] });
  console.log(JSON.stringify(result, null, 2));
}
