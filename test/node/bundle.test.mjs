/**
 * The default single-file bundle stays small: Lit, the whole UI and the worklet fallback within the
 * 24 KB gzip budget, with the translations kept out of it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('../..', import.meta.url));
const BUDGET = 24 * 1024;

test('dist/voice-agent.js is within 24 KB gzip', () => {
  const gzip = gzipSync(readFileSync(`${root}dist/voice-agent.js`), { level: 9 }).length;
  assert.ok(gzip <= BUDGET, `${gzip} bytes gzip, over the budget of ${BUDGET}`);
});

test('each locale is a module of its own, not in the bundle', () => {
  const bundle = readFileSync(`${root}dist/voice-agent.js`, 'utf8');
  for (const lang of ['es', 'fr', 'de', 'hi', 'ar']) {
    const locale = readFileSync(`${root}dist/locales/${lang}.js`, 'utf8');
    const sample = /statusIdle:"([^"]+)"/.exec(locale)?.[1];
    assert.ok(sample, `${lang} has statusIdle`);
    assert.ok(!bundle.includes(sample), `${lang} stays out of the bundle`);
  }
});
