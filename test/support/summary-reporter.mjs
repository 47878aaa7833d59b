/**
 * web-test-runner reporter: counts every test of every session (a file that failed to load counts
 * as one failure), per test file, and writes them to a JSON file for test/browser.mjs, with every
 * browser restart the WebKit watchdog made. Prints the plain `N passed, N failed` line.
 *
 * Also times each test file from the runner's session events: `ms` is its wall time from the moment
 * the runner opened its page to the moment the page was closed, split into `startMs` (page load and
 * module compile until the tests start), `testsMs` (the tests) and `stopMs` (closing the page and
 * collecting the results); `tests` has each test's time, slowest first. `wallMs` is the whole engine run,
 * `setupMs` its part before the first page opened (dev server, browser launchers).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { restarts } from './webkit-launcher.mjs';

export function summaryReporter({ outFile, engine, print = true } = {}) {
  /** Session id → the time each status was first reached. */
  const times = new Map();
  let startTime;
  let setupMs;
  return {
    start({ sessions, startTime: runnerStart }) {
      const now = Date.now();
      startTime = runnerStart > 0 ? runnerStart : now;
      setupMs = now - startTime; // the dev server and every browser launcher's initialize()
      const record = (session) => {
        const at = times.get(session.id) ?? times.set(session.id, {}).get(session.id);
        at[session.status] ??= Date.now();
      };
      // The first sessions were opened just before the reporters started.
      for (const session of sessions.all()) if (session.status !== 'SCHEDULED') record(session);
      sessions.on('session-status-updated', record);
    },
    onTestRunFinished({ sessions }) {
      const files = {};
      const walk = (suite, path, result) => {
        for (const test of suite.tests) {
          if (test.skipped) result.skipped++;
          else if (test.passed) result.passed++;
          else {
            result.failed++;
            result.failures.push(`${[...path, test.name].join(' › ')}${test.error?.message ? ` — ${firstLine(test.error.message)}` : ''}`);
          }
          if (test.duration !== undefined) result.tests.push({ name: [...path, test.name].join(' › '), ms: test.duration });
        }
        for (const child of suite.suites) walk(child, [...path, child.name], result);
      };
      for (const session of sessions) {
        const result = (files[session.testFile] ??= { passed: 0, failed: 0, skipped: 0, failures: [], tests: [] });
        if (session.testResults) walk(session.testResults, [], result);
        // Errors outside any test (a file that failed to load, an uncaught exception) fail the run too.
        for (const error of session.errors ?? []) {
          result.failed++;
          result.failures.push(firstLine(error.message));
        }
        Object.assign(result, durations(times.get(session.id)));
      }
      for (const result of Object.values(files)) result.tests.sort((a, b) => b.ms - a.ms);
      const fileOf = (sessionId) => sessions.find((s) => s.id === sessionId)?.testFile ?? sessionId;
      const summary = {
        engine,
        wallMs: Date.now() - startTime,
        setupMs,
        files,
        restarts: restarts.map(({ sessionId, during, cause }) => ({ file: fileOf(sessionId), during, cause })),
      };
      if (outFile) {
        mkdirSync(dirname(outFile), { recursive: true });
        writeFileSync(outFile, JSON.stringify(summary, null, 2));
      }
      if (print) {
        const total = (key) => Object.values(files).reduce((n, f) => n + f[key], 0);
        const skipped = total('skipped');
        console.log(`\n${total('passed')} passed, ${total('failed')} failed${skipped ? `, ${skipped} skipped` : ''}`);
      }
    },
  };
}

/** A session's wall time and its parts, from the times it reached each status. */
function durations(at = {}) {
  const span = (from, to) => (at[from] !== undefined && at[to] !== undefined ? at[to] - at[from] : undefined);
  return {
    ms: span('INITIALIZING', 'FINISHED'),
    startMs: span('INITIALIZING', 'TEST_STARTED'),
    testsMs: span('TEST_STARTED', 'TEST_FINISHED'),
    stopMs: span('TEST_FINISHED', 'FINISHED'),
  };
}

function firstLine(text) {
  return String(text).split('\n')[0].slice(0, 300);
}
