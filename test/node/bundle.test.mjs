/**
 * The default bundle stays small: Lit and the whole UI within the 24 KB gzip budget, with the
 * translations and the worklets (files beside it) kept out of it. The standalone bundle is the same
 * plus both worklets inside, and nothing else.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('../..', import.meta.url));
const BUDGET = 24 * 1024;

test('dist/cdn/voice-agent.js is within 24 KB gzip', () => {
  const gzip = gzipSync(readFileSync(`${root}dist/cdn/voice-agent.js`), { level: 9 }).length;
  assert.ok(gzip <= BUDGET, `${gzip} bytes gzip, over the budget of ${BUDGET}`);
});

test('each locale is a module of its own, not in the bundle', () => {
  const bundle = readFileSync(`${root}dist/cdn/voice-agent.js`, 'utf8');
  for (const lang of ['es', 'fr', 'de', 'hi', 'ar']) {
    const locale = readFileSync(`${root}dist/cdn/locales/${lang}.js`, 'utf8');
    const sample = /statusIdle:"([^"]+)"/.exec(locale)?.[1];
    assert.ok(sample, `${lang} has statusIdle`);
    assert.ok(!bundle.includes(sample), `${lang} stays out of the bundle`);
  }
});

test('the standalone bundle is the default one plus the worklets inside it', () => {
  const gzip = (file) => gzipSync(readFileSync(`${root}dist/cdn/${file}`), { level: 9 }).length;
  const bundle = readFileSync(`${root}dist/cdn/voice-agent.js`, 'utf8');
  const standalone = readFileSync(`${root}dist/cdn/voice-agent.standalone.js`, 'utf8');
  assert.ok(!bundle.includes('registerProcessor'), 'no worklet code in the default bundle');
  assert.ok(standalone.includes('voice-agent-capture') && standalone.includes('voice-agent-playback'), 'both processors inside');
  const extra = gzip('voice-agent.standalone.js') - gzip('voice-agent.js');
  const worklets = gzip('worklets/capture-processor.js') + gzip('worklets/playback-processor.js');
  assert.ok(extra > 0 && extra < worklets, `${extra} B more than the default bundle, under the ${worklets} B of the two worklet files`);
});
