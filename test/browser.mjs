#!/usr/bin/env node
/**
 * `npm run test:browser`: the browser suite, built first. All three engines by default;
 * `-- --engine firefox` (or chromium, webkit; repeatable) for one, `-- --files a.test.ts,b.test.ts`
 * for some files. Chromium and Firefox run at the same time, WebKit after them (`VA_SERIAL=1`: one
 * engine after the other; test/support/browser-runner.mjs). Prints the slowest files of each engine
 * (`VA_SLOWEST=N` of them, 0 for none) and ends with a plain `N passed, N failed` line.
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ENGINES, engineAvailable } from './support/engines.mjs';
import { runBrowserTests } from './support/browser-runner.mjs';
import { printResults } from './support/report.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { engine: { type: 'string', multiple: true }, files: { type: 'string' } } });
const engines = values.engine?.flatMap((e) => e.split(',')) ?? ENGINES;
for (const engine of engines) {
  if (!ENGINES.includes(engine)) {
    console.error(`Unknown engine "${engine}": use ${ENGINES.join(', ')}`);
    process.exit(2);
  }
  if (!engineAvailable(engine)) {
    console.error(`${engine} is not installed here: npm test installs every engine (Debian packages, as root).`);
    process.exit(2);
  }
}
const files = values.files?.split(',').map((f) => (f.startsWith('test/') ? f : `test/browser/${f}`));
const results = await runBrowserTests({ root, engines, files });
const { failed } = printResults(results);
process.exit(failed === 0 ? 0 : 1);
