#!/usr/bin/env node
/**
 * `npm test`: the whole suite on a fresh machine. Installs what is missing (npm packages, a
 * Chromium), builds, type-checks, runs the Node tests and the browser tests, and ends with one
 * `N passed, N failed` line for both.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const generated = `${root}test/.generated`;
process.chdir(root);

const run = (command, args, options = {}) => spawnSync(command, args, { stdio: 'inherit', ...options }).status === 0;
const step = (title) => console.log(`\n▶ ${title}`);
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

// 2. A browser: Debian's Chromium is installed when none is found and we may install it.
const { findChrome } = await import('./support/chrome.mjs');
if (!findChrome()) {
  const canApt = process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  if (!canApt) gateFailed('No Chromium or Chrome found. Install one (Debian: apt-get install chromium) or set CHROME_PATH.');
  step('apt-get install chromium');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!run('apt-get', ['update', '-qq'], { env }) || !run('apt-get', ['install', '-y', '-qq', 'chromium'], { env })) {
    gateFailed('Installing Chromium failed');
  }
  if (!findChrome()) gateFailed('Chromium was installed but not found; set CHROME_PATH');
}

// 3. Build (the browser tests exercise the built bundle and worklets) and type-check every project.
step('build');
if (!run('npm', ['run', '--silent', 'build'])) gateFailed('build failed');
step('type-check');
if (!run('npm', ['run', '--silent', 'lint:types'])) gateFailed('type-check failed');

mkdirSync(generated, { recursive: true });
rmSync(`${generated}/browser-results.json`, { force: true });

// 4. Node tests (server side, manifest drift).
step('node tests');
const tapFile = `${generated}/node-results.tap`;
run('node', [
  '--test',
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=tap',
  `--test-reporter-destination=${tapFile}`,
  'test/node/',
]);
const tap = existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '';
const tapCount = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
const node = { passed: tapCount('pass'), failed: tapCount('fail') + tapCount('cancelled') };
if (!tap) node.failed++;

// 5. Browser tests.
step('browser tests');
run('npx', ['wtr', '--config', 'test/web-test-runner.config.mjs']);
const resultsFile = `${generated}/browser-results.json`;
const browser = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : { passed: 0, failed: 1, failures: ['the browser tests did not finish'] };

console.log(`\nnode: ${node.passed} passed, ${node.failed} failed`);
console.log(`browser: ${browser.passed} passed, ${browser.failed} failed`);
for (const failure of browser.failures ?? []) console.log(`  ✖ ${failure}`);
const passed = node.passed + browser.passed;
const failed = node.failed + browser.failed;
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
