/**
 * Runs the browser suite in one or more engines, one web-test-runner process each, and counts the
 * results per engine. Starts the private PulseAudio server Firefox and WebKit need. A test file whose
 * browser hung while it ran (the WebKit watchdog restarted the browser) runs once more, and the
 * report says so.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { engineVersion } from './engines.mjs';
import { ensureFixtures } from './fixtures.mjs';
import { startPulse } from './pulse.mjs';

/** A whole engine run may take this long before it is stopped and counted as failed. */
const ENGINE_TIMEOUT_MS = 12 * 60_000;

export async function runBrowserTests({ root, engines, files }) {
  const generated = `${root}test/.generated`;
  const { speechLoop } = await ensureFixtures(root);
  const needsPulse = engines.some((e) => e !== 'chromium');
  const pulse = needsPulse ? await startPulse({ dir: `${generated}/pulse-${process.env.VA_TEST_PORT ?? 8129}`, microphoneWav: speechLoop }) : undefined;
  const results = [];
  try {
    for (const engine of engines) {
      const version = engineVersion(engine);
      console.log(`\n▶ browser tests: ${engine} (${version})`);
      const started = Date.now();
      const first = await runEngine({ root, engine, env: pulse?.env, files });
      const hung = [...new Set(first.restarts.filter((r) => r.during === 'test').map((r) => r.file))];
      const notes = first.restarts.map((r) => `the browser hung during a ${r.during} in ${r.file} and was restarted`);
      let merged = first.files;
      if (hung.length > 0) {
        console.log(`\n▶ ${engine}: running ${hung.join(', ')} again after the browser restart`);
        const again = await runEngine({ root, engine, env: pulse?.env, files: hung });
        merged = { ...first.files, ...again.files };
        notes.push(...again.restarts.map((r) => `on the re-run, the browser hung again during a ${r.during} in ${r.file}`));
      }
      results.push({ engine, version, ...count(merged, first.error), notes, ms: Date.now() - started, files: timings(merged) });
    }
  } finally {
    await pulse?.stop();
  }
  return results;
}

/** Each file's wall time and its parts (test/support/summary-reporter.mjs), slowest first. */
function timings(files) {
  return Object.entries(files)
    .map(([file, { ms, startMs, testsMs, stopMs, slowestTests }]) => ({ file, ms, startMs, testsMs, stopMs, slowestTests }))
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

function runEngine({ root, engine, env, files }) {
  const resultsFile = `${root}test/.generated/browser-results-${engine}-${process.env.VA_TEST_PORT ?? 8129}.json`;
  rmSync(resultsFile, { force: true });
  return new Promise((resolve) => {
    const child = spawn(`${root}node_modules/.bin/wtr`, ['--config', 'test/web-test-runner.config.mjs'], {
      cwd: root,
      stdio: 'inherit',
      detached: true, // a process group: a stuck run is ended with every browser it started
      env: { ...process.env, ...env, VA_ENGINE: engine, ...(files ? { VA_FILES: files.join(',') } : {}) },
    });
    const timer = setTimeout(() => {
      console.error(`\n✖ ${engine}: the run took longer than ${ENGINE_TIMEOUT_MS / 60_000} minutes; stopping it`);
      killGroup(child.pid);
    }, ENGINE_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      killGroup(child.pid); // whatever it left behind
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
