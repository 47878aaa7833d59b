#!/usr/bin/env node
/**
 * `npm test`: the whole suite on a fresh machine. Installs what is missing (npm packages; Chromium,
 * Firefox ESR, WebKitGTK, Xvfb and PulseAudio from Debian), builds, type-checks, builds apps from
 * the packed package with Vite, runs the Node tests and the browser tests in all three engines, and
 * ends with one `N passed, N failed` line. Steps that mostly wait run at the same time (4 and 5
 * below); the time of each is printed at the end (and kept in test/.generated/timings-*.json).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const generated = `${root}test/.generated`;
process.chdir(root);

const run = (command, args, options = {}) => spawnSync(command, args, { stdio: 'inherit', ...options }).status === 0;
/** Like `run`, without blocking; `quiet` keeps the output (in `output`) instead of printing it. */
function runAsync(command, args, { quiet = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', quiet ? 'pipe' : 'inherit', quiet ? 'pipe' : 'inherit'] });
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    child.once('error', (error) => resolve(quiet ? { ok: false, output: `${output}${error.message}\n` } : false));
    child.once('close', (code) => resolve(quiet ? { ok: code === 0, output } : code === 0));
  });
}
const runStarted = Date.now();
/** Each step's wall time, printed at the end. */
const steps = [];
let current;
const endStep = () => {
  if (current) steps.push({ title: current.title, ms: Date.now() - current.started });
  current = undefined;
};
const step = (title) => {
  endStep();
  current = { title, started: Date.now() };
  console.log(`\n▶ ${title}`);
};
/** A step that may run alongside others: its own wall time. */
async function timed(title, work) {
  const started = Date.now();
  try {
    return await work();
  } finally {
    steps.push({ title, ms: Date.now() - started });
  }
}
function gateFailed(title) {
  console.error(`\n✖ ${title}`);
  console.log('\n0 passed, 1 failed');
  process.exit(1);
}

// 1. Packages: a clean clone has none; a stale install is refreshed.
const lock = `${root}package-lock.json`;
const installed = `${root}node_modules/.package-lock.json`;
if (!existsSync(installed) || statSync(lock).mtimeMs > statSync(installed).mtimeMs) {
  step('npm ci');
  if (!run('npm', ['ci', '--no-audit', '--no-fund'])) gateFailed('npm ci failed');
}

// 2. The browsers and the sound server, from Debian's packages, when missing and we may install them.
step('browser packages');
const { ENGINES, PACKAGES, engineAvailable } = await import('./support/engines.mjs');
const packageInstalled = (name) =>
  spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' }).stdout?.includes('install ok installed');
const canApt = process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
const missing = ENGINES.filter((engine) => !engineAvailable(engine) || (canApt && !PACKAGES[engine].every(packageInstalled)));
if (missing.length > 0) {
  if (!canApt) gateFailed(`Missing browsers: ${missing.join(', ')}. On Debian, as root: apt-get install ${[...new Set(missing.flatMap((e) => PACKAGES[e]))].join(' ')}`);
  const packages = [...new Set(missing.flatMap((engine) => PACKAGES[engine]))].filter((name) => !packageInstalled(name));
  step(`apt-get install ${packages.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!run('apt-get', ['update', '-qq'], { env }) || !run('apt-get', ['install', '-y', '-qq', ...packages], { env })) {
    gateFailed('Installing the browsers failed');
  }
  const stillMissing = ENGINES.filter((engine) => !engineAvailable(engine));
  if (stillMissing.length > 0) gateFailed(`Installed, but still not found: ${stillMissing.join(', ')}`);
}

// 3. Build (the browser tests exercise the built bundle and worklets).
step('build');
if (!run('npm', ['run', '--silent', 'build'])) gateFailed('build failed');
endStep();

// 4. Then at once: the type-check of every project, and the package as published built into apps
// with Vite (the Node and browser tests check them) followed by the Node tests (server side,
// manifest drift). Each of them mostly waits or uses one core: together they take as long as the
// slowest. The type-check's output comes after the others'.
mkdirSync(generated, { recursive: true });
const tapFile = `${generated}/node-results.tap`;
const [typesOk, { appsOk, node }] = await Promise.all([
  timed('type-check (alongside the packaged apps and node tests)', () => runAsync('npm', ['run', '--silent', 'lint:types'], { quiet: true })),
  (async () => {
    console.log('\n▶ packaged apps');
    const appsOk = await timed('packaged apps', () => runAsync('node', ['test/support/packaged-apps.mjs']));
    if (!appsOk) return { appsOk };
    console.log('\n▶ node tests');
    await timed('node tests', () =>
      runAsync('node', [
        '--test',
        // The files run four at a time: they spend their time waiting on servers, sockets and child processes.
        '--test-concurrency=4',
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        '--test-reporter=tap',
        `--test-reporter-destination=${tapFile}`,
        'test/node/',
      ]),
    );
    const tap = existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '';
    const tapCount = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
    const node = { engine: 'node', passed: tapCount('pass'), failed: tapCount('fail') + tapCount('cancelled'), failures: [] };
    if (!tap) {
      node.failed++;
      node.failures.push('the Node tests did not report');
    }
    return { appsOk, node };
  })(),
]);
console.log('\n▶ type-check');
process.stdout.write(typesOk.output);
if (!typesOk.ok) gateFailed('type-check failed');
if (!appsOk) gateFailed('building the apps from the packed package failed');

// 5. Browser tests (test/support/browser-runner.mjs: Chromium and Firefox at once, then WebKit).
const { runBrowserTests } = await import('./support/browser-runner.mjs');
const { printResults } = await import('./support/report.mjs');
const browsers = await runBrowserTests({ root, engines: ENGINES });
const totalMs = Date.now() - runStarted;
writeFileSync(`${generated}/timings-${process.env.VA_TEST_PORT ?? 8129}.json`, JSON.stringify({ totalMs, steps, browsers }, null, 2));
const { passed, failed } = printResults([node, ...browsers], { steps, totalMs });
process.exit(failed === 0 && passed > 0 ? 0 : 1);
