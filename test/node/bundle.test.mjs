/**
 * The default bundle stays small: Lit and the whole UI within the 24 KB gzip budget, with the call
 * engine, the translations and the worklets (files beside it) kept out of it. What a voice call
 * downloads in all (the worklet files aside) stays within 30 KB. The single-file builds hold the same
 * code and both worklets.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('../..', import.meta.url));
const BUDGET = 24 * 1024;
/**
 * The bundle, the call engine and what the engine imports (the worklet files load into the audio
 * thread). 30 KB since reconnects, the microphone uplink under backpressure and the caps on what a
 * hostile server can make the page hold (about 1.5 KB together).
 */
const CALL_BUDGET = 30 * 1024;
const gzip = (file) => gzipSync(readFileSync(`${root}dist/cdn/${file}`), { level: 9 }).length;
/** The chunks `file` imports statically (not those it loads on demand), transitively. */
function staticImports(file, seen = new Set()) {
  for (const [, next] of readFileSync(`${root}dist/cdn/${file}`, 'utf8').matchAll(/from"\.\/([\w.-]+\.js)"/g)) {
    if (!seen.has(next)) staticImports(next, seen.add(next));
  }
  return seen;
}

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

test('the call engine is a chunk of its own, and a voice call downloads at most 30 KB gzip', () => {
  const bundle = readFileSync(`${root}dist/cdn/voice-agent.js`, 'utf8');
  assert.ok(!bundle.includes('input_audio_buffer.append') && !bundle.includes('AudioWorkletNode'), 'no protocol or audio code in the bundle');
  assert.match(bundle, /import\("\.\/voice-agent-engine\.js"\)/);
  const call = ['voice-agent.js', 'voice-agent-engine.js', ...staticImports('voice-agent-engine.js')].filter((f, i, all) => all.indexOf(f) === i);
  const total = call.reduce((n, file) => n + gzip(file), 0);
  assert.ok(total <= CALL_BUDGET, `${call.join(' + ')}: ${total} bytes gzip, over ${CALL_BUDGET}`);
});

test('the single-file builds hold the bundle, every chunk and both worklets, loading nothing', () => {
  const chunks = readdirSync(`${root}dist/cdn`).filter((f) => /^voice-agent-[\w-]+\.js$/.test(f));
  assert.deepEqual(chunks.sort(), ['voice-agent-device-menu.js', 'voice-agent-devices.js', 'voice-agent-echo-safe-route.js', 'voice-agent-engine.js', 'voice-agent-tool-runner.js']);
  const split = gzip('voice-agent.js') + chunks.reduce((n, file) => n + gzip(file), 0);
  const worklets = gzip('worklets/capture-processor.js') + gzip('worklets/playback-processor.js');
  for (const file of ['voice-agent.standalone.js', 'voice-agent.iife.js']) {
    const code = readFileSync(`${root}dist/cdn/${file}`, 'utf8');
    assert.ok(!/import\(|from"\.\//.test(code), `${file} imports nothing`);
    assert.ok(code.includes('voice-agent-capture') && code.includes('voice-agent-playback'), `${file}: both processors inside`);
    const size = gzip(file);
    assert.ok(size > split && size < split + worklets, `${file}: ${size} B, between the split files (${split} B) and those plus the worklets (${split + worklets} B)`);
  }
});
