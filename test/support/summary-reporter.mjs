/**
 * web-test-runner reporter: counts every test of every session (a file that failed to load counts
 * as one failure), writes the counts to a JSON file for test/run.mjs, and prints the plain
 * `N passed, N failed` line.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export function summaryReporter({ outFile, print = true } = {}) {
  return {
    onTestRunFinished({ sessions }) {
      let passed = 0;
      let failed = 0;
      let skipped = 0;
      const failures = [];
      const walk = (suite, path, file) => {
        for (const test of suite.tests) {
          if (test.skipped) skipped++;
          else if (test.passed) passed++;
          else {
            failed++;
            failures.push(`${file} › ${[...path, test.name].join(' › ')}`);
          }
        }
        for (const child of suite.suites) walk(child, [...path, child.name], file);
      };
      for (const session of sessions) {
        if (session.testResults) walk(session.testResults, [], session.testFile);
        // Errors outside any test (a file that failed to load, an uncaught exception) fail the run too.
        for (const error of session.errors ?? []) {
          failed++;
          failures.push(`${session.testFile} › ${error.message}`);
        }
      }
      if (outFile) {
        mkdirSync(dirname(outFile), { recursive: true });
        writeFileSync(outFile, JSON.stringify({ passed, failed, skipped, failures }, null, 2));
      }
      if (print) console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
    },
  };
}
