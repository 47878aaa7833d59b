/**
 * web-test-runner reporter: counts every test of every session (a file that failed to load counts
 * as one failure), per test file, and writes them to a JSON file for test/browser.mjs, with every
 * browser restart the WebKit watchdog made. Prints the plain `N passed, N failed` line.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { restarts } from './webkit-launcher.mjs';

export function summaryReporter({ outFile, engine, print = true } = {}) {
  return {
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
        }
        for (const child of suite.suites) walk(child, [...path, child.name], result);
      };
      for (const session of sessions) {
        const result = (files[session.testFile] ??= { passed: 0, failed: 0, skipped: 0, failures: [] });
        if (session.testResults) walk(session.testResults, [], result);
        // Errors outside any test (a file that failed to load, an uncaught exception) fail the run too.
        for (const error of session.errors ?? []) {
          result.failed++;
          result.failures.push(firstLine(error.message));
        }
      }
      const fileOf = (sessionId) => sessions.find((s) => s.id === sessionId)?.testFile ?? sessionId;
      const summary = {
        engine,
        files,
        restarts: restarts.map(({ sessionId, during }) => ({ file: fileOf(sessionId), during })),
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

function firstLine(text) {
  return String(text).split('\n')[0].slice(0, 300);
}
