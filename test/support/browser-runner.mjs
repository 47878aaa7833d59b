/**
 * Runs the browser suite in one or more engines, one web-test-runner process each, and counts the
 * results per engine. Starts the private PulseAudio server Firefox and WebKit need (one per engine).
 * A test file whose browser hung or crashed while it ran (the WebKit watchdog restarted the browser)
 * runs once more, and the report says so.
 *
 * Chromium and Firefox run at the same time (each spends most of its time waiting on real-time
 * audio: together they use about 1.4 of 2 cores); WebKit runs alone, after them (it alone uses more
 * than one core, and its web process hangs more often under load). `VA_SERIAL=1` runs one engine
 * after the other. The output of an engine that runs alongside another is held back and printed
 * after it, so the log reads engine by engine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { engineVersion } from './engines.mjs';
import { ensureFixtures } from './fixtures.mjs';
import { startPulse } from './pulse.mjs';

/** A whole engine run may take this long before it is stopped and counted as failed. */
const ENGINE_TIMEOUT_MS = 12 * 60_000;
/** Engines that may share the machine; any other runs alone. */
const TOGETHER = ['chromium', 'firefox'];
const RUN_ID = process.env.VA_TEST_PORT ?? 8129;

export async function runBrowserTests({ root, engines, files }) {
  const { speechLoop } = await ensureFixtures(root);
  const output = new OrderedOutput(engines);
  const results = new Map();
  for (const wave of waves(engines)) {
    await Promise.all(
      wave.map(async (engine, i) => {
        // The first engine of a wave serves on VA_TEST_PORT, as a single engine always does.
        const port = i === 0 ? Number(RUN_ID) : await freePort();
        const out = output.channel(engine);
        try {
          const alongside = wave.filter((other) => other !== engine);
          results.set(engine, { ...(await testEngine({ root, engine, files, port, speechLoop, out })), ...(alongside.length > 0 ? { alongside } : {}) });
        } finally {
          out.end();
        }
      }),
    );
  }
  return engines.map((engine) => results.get(engine));
}

/** The engines in groups that run at once, in order. */
function waves(engines) {
  if (process.env.VA_SERIAL === '1') return engines.map((engine) => [engine]);
  const together = engines.filter((engine) => TOGETHER.includes(engine));
  return [...(together.length > 0 ? [together] : []), ...engines.filter((engine) => !TOGETHER.includes(engine)).map((engine) => [engine])];
}

/** One engine: its run, a second run of the files whose browser hung, and the counts. */
async function testEngine({ root, engine, files, port, speechLoop, out }) {
  const version = engineVersion(engine);
  out.write(`\n▶ browser tests: ${engine} (${version})\n`);
  const started = Date.now();
  const pulse = engine === 'chromium' ? undefined : await startPulse({ dir: `${root}test/.generated/pulse-${RUN_ID}-${engine}`, microphoneWav: speechLoop });
  try {
    const env = { ...pulse?.env, VA_SERVER_PORT: String(port) };
    const first = await runEngine({ root, engine, env, files, out });
    const hung = [...new Set(first.restarts.filter((r) => r.during === 'test').map((r) => r.file))];
    const notes = first.restarts.map((r) => `the browser ${r.cause ?? 'hung'} during a ${r.during} in ${r.file} and was restarted`);
    let merged = first.files;
    if (hung.length > 0) {
      out.write(`\n▶ ${engine}: running ${hung.join(', ')} again after the browser restart\n`);
      const again = await runEngine({ root, engine, env, files: hung, out });
      merged = { ...first.files, ...again.files };
      notes.push(...again.restarts.map((r) => `on the re-run, the browser ${r.cause ?? 'hung'} again during a ${r.during} in ${r.file}`));
    }
    return { engine, version, ...count(merged, first.error), notes, ms: Date.now() - started, files: timings(merged) };
  } finally {
    await pulse?.stop();
  }
}

/**
 * Each engine's output, in the order of `engines`: the first unfinished engine's goes straight
 * through; the others' is kept until every engine before them has finished.
 */
class OrderedOutput {
  constructor(engines) {
    this.channels = engines.map(() => ({ chunks: [], ended: false }));
    this.order = engines;
    this.live = 0;
  }

  channel(engine) {
    const index = this.order.indexOf(engine);
    const channel = this.channels[index];
    return {
      write: (chunk, stream = 'stdout') => {
        if (index === this.live) process[stream].write(chunk);
        else channel.chunks.push([stream, chunk]);
      },
      end: () => {
        channel.ended = true;
        this.advance();
      },
    };
  }

  advance() {
    while (this.live < this.channels.length) {
      const channel = this.channels[this.live];
      for (const [stream, chunk] of channel.chunks.splice(0)) process[stream].write(chunk);
      if (!channel.ended) return;
      this.live++;
    }
  }
}

/** A port the system has free now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Each file's wall time and its parts (test/support/summary-reporter.mjs), slowest first. */
function timings(files) {
  return Object.entries(files)
    .map(([file, { ms, startMs, testsMs, stopMs, tests }]) => ({ file, ms, startMs, testsMs, stopMs, slowestTests: tests?.slice(0, 3) }))
    .sort((a, b) => (b.ms ?? 0) - (a.ms ?? 0));
}

function count(files, error) {
  const all = Object.entries(files);
  const failures = all.flatMap(([file, r]) => r.failures.map((f) => `${file} › ${f}`));
  const result = {
    passed: all.reduce((n, [, r]) => n + r.passed, 0),
    failed: all.reduce((n, [, r]) => n + r.failed, 0),
    skipped: all.reduce((n, [, r]) => n + r.skipped, 0),
    failures,
  };
  if (error) {
    result.failed++;
    result.failures.push(error);
  }
  return result;
}

function runEngine({ root, engine, env, files, out }) {
  const resultsFile = `${root}test/.generated/browser-results-${engine}-${RUN_ID}.json`;
  rmSync(resultsFile, { force: true });
  return new Promise((resolve) => {
    const child = spawn(`${root}node_modules/.bin/wtr`, ['--config', 'test/web-test-runner.config.mjs'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // a process group: a stuck run is ended with every browser it started
      env: { ...process.env, ...env, VA_ENGINE: engine, ...(files ? { VA_FILES: files.join(',') } : {}) },
    });
    child.stdout.on('data', (chunk) => out.write(chunk));
    child.stderr.on('data', (chunk) => out.write(chunk, 'stderr'));
    const timer = setTimeout(() => {
      out.write(`\n✖ ${engine}: the run took longer than ${ENGINE_TIMEOUT_MS / 60_000} minutes; stopping it\n`, 'stderr');
      killGroup(child.pid);
    }, ENGINE_TIMEOUT_MS);
    child.once('exit', () => killGroup(child.pid)); // whatever it left behind
    child.once('close', () => {
      clearTimeout(timer);
      if (engine === 'webkit') killWebKitDrivers();
      if (!existsSync(resultsFile)) {
        resolve({ files: {}, restarts: [], error: `${engine}: the browser tests did not finish` });
        return;
      }
      const summary = JSON.parse(readFileSync(resultsFile, 'utf8'));
      const relative = (file) => (file.startsWith(root) ? file.slice(root.length) : file);
      resolve({
        files: Object.fromEntries(Object.entries(summary.files).map(([file, result]) => [relative(file), result])),
        restarts: summary.restarts.map((r) => ({ ...r, file: relative(r.file) })),
      });
    });
  });
}

/** WebKit's drivers run in process groups of their own (test/support/webkit-launcher.mjs). */
function killWebKitDrivers() {
  const ps = spawnSync('ps', ['-o', 'pgid=', '-C', 'WebKitWebDriver'], { encoding: 'utf8' });
  for (const pgid of new Set(ps.stdout.split(/\s+/).filter(Boolean))) killGroup(Number(pgid));
}

function killGroup(pid) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
