/**
 * The package as published (`npm pack`), and what a bundler makes of it: test/support/packaged-apps.mjs
 * unpacks the tarball into an app and builds the recipes' pages with Vite (`npm test` runs it before
 * the Node tests). Here: the tarball's contents and exports, the npm modules (Lit external, no
 * define in `./element`), and the app's output (worklet files emitted, one Lit, nothing inlined).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { APP_DIR, APP_DIST, PAGES } from '../support/packaged-apps.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGE = `${APP_DIR}/node_modules/voice-agent-widget`;
const built = existsSync(`${APP_DIST}/assets`);
const need = () => assert.ok(built, 'the apps are not built: run node test/support/packaged-apps.mjs (npm test does)');
const read = (path) => readFileSync(path, 'utf8');
const assets = () => readdirSync(`${APP_DIST}/assets`);
/** The JavaScript a page loads: its entry chunk and the chunks that imports, at once or on demand, transitively. */
function pageCode(page) {
  const html = read(`${APP_DIST}/${page}.html`);
  const seen = new Set();
  const queue = [...html.matchAll(/(?:src|href)="\/apps\/assets\/([\w.-]+\.js)"/g)].map((m) => m[1]);
  while (queue.length > 0) {
    const file = queue.shift();
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of read(`${APP_DIST}/assets/${file}`).matchAll(/(?:from|import)\s*\(?\s*["'`]\.\/([\w.-]+\.js)["'`]/g)) queue.push(m[1]);
  }
  return [...seen].map((file) => read(`${APP_DIST}/assets/${file}`)).join('\n');
}

test('the apps were built from the tarball, not from the repository', () => {
  need();
  const resolved = JSON.parse(read(`${APP_DIR}/resolutions.json`));
  assert.deepEqual([...new Set(resolved.map((r) => r.source))].sort(), [
    'voice-agent-widget',
    'voice-agent-widget/cdn/voice-agent.js',
    'voice-agent-widget/element',
  ]);
  for (const { source, id } of resolved) assert.ok(id.startsWith(`${PACKAGE}/dist/`), `${source} → ${id}`);
});

test('the tarball holds the built package, not its sources', () => {
  need();
  const files = [];
  const walk = (dir, prefix = '') => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(`${dir}/${entry.name}`, `${prefix}${entry.name}/`);
      else files.push(`${prefix}${entry.name}`);
    }
  };
  walk(PACKAGE);
  for (const file of ['package.json', 'README.md', 'LICENSE', 'custom-elements.json', 'dist/voice-agent.js', 'dist/voice-agent.d.ts', 'dist/element.js', 'dist/element.d.ts', 'dist/worklets/capture-processor.js', 'dist/worklets/playback-processor.js', 'dist/cdn/voice-agent.js', 'dist/cdn/voice-agent.iife.js', 'dist/cdn/worklets/capture-processor.js', 'dist/server/index.js', 'dist/local-agent/index.js']) {
    assert.ok(files.includes(file), `${file} is published`);
  }
  assert.deepEqual(files.filter((f) => /^(src|test|demo|bench|docs|worklets)\//.test(f)), [], 'no sources, tests or demo');
  // Declarations sit beside the browser modules they describe.
  for (const js of files.filter((f) => /^dist\/(element|audio|session|transport|protocol)\b.*\.js$/.test(f))) {
    assert.ok(files.includes(js.replace(/\.js$/, '.d.ts')), `${js} has its declarations beside it`);
  }
});

test('every export of package.json names a file in the tarball', () => {
  need();
  const pkg = JSON.parse(read(`${PACKAGE}/package.json`));
  // One concrete subpath for each pattern.
  const examples = { './worklets/*': 'capture-processor.js', './cdn/*': 'voice-agent.iife.js', './locales/*.js': 'de', './locales/*': 'de' };
  for (const [key, target] of Object.entries(pkg.exports)) {
    for (const path of typeof target === 'string' ? [target] : Object.values(target)) {
      const file = path.replace('*', examples[key] ?? '').replace(/^\.\//, '');
      assert.ok(existsSync(`${PACKAGE}/${file}`), `${key} → ${file} exists`);
    }
  }
  assert.equal(pkg.unpkg, './dist/cdn/voice-agent.js');
  assert.equal(pkg.jsdelivr, './dist/cdn/voice-agent.js');
  assert.deepEqual(Object.keys(pkg.dependencies), ['lit']);
  assert.equal(pkg.peerDependenciesMeta.ws.optional, true);
});

test('the npm modules leave Lit to the app, and ./element defines nothing', () => {
  need();
  const entry = read(`${PACKAGE}/dist/voice-agent.js`);
  assert.match(entry, /customElements\.define\('voice-agent'/);
  const all = readdirSync(`${PACKAGE}/dist`, { recursive: true }).filter((f) => String(f).endsWith('.js') && !String(f).startsWith('cdn') && !String(f).startsWith('local-agent'));
  for (const file of all) {
    const code = read(`${PACKAGE}/dist/${file}`);
    assert.ok(!code.includes('litHtmlVersions'), `${file} does not carry a copy of Lit`);
  }
  assert.match(read(`${PACKAGE}/dist/element/voice-agent-element.js`), /from 'lit'/);
  assert.ok(!read(`${PACKAGE}/dist/element.js`).includes('customElements.define('));
  assert.ok(!read(`${PACKAGE}/dist/element/voice-agent-element.js`).includes('customElements.define('));
});

test('Vite emits both worklet files, unchanged, and the app loads them by URL (no blob:, no data:)', () => {
  need();
  for (const name of ['capture-processor', 'playback-processor']) {
    const emitted = assets().filter((f) => f.startsWith(`${name}-`));
    assert.equal(emitted.length, 1, `${name} emitted once`);
    assert.equal(read(`${APP_DIST}/assets/${emitted[0]}`), read(`${PACKAGE}/dist/worklets/${name}.js`));
    assert.ok(pageCode('lit').includes(emitted[0]), `the app refers to ${emitted[0]}`);
  }
  for (const page of Object.keys(PAGES)) {
    const code = pageCode(page);
    assert.doesNotMatch(code, /data:text\/javascript;base64,[A-Za-z0-9+/]{16}/, `${page}: no worklet inlined as a data: URL`);
    assert.ok(!code.includes('registerProcessor'), `${page}: no worklet code in the page's bundle`);
    assert.ok(!code.includes('no-inline'), `${page}: the hint is gone from the emitted URLs`);
  }
});

test('webpack 5 emits both worklet files too, and the bundle points at them', () => {
  need();
  const main = readdirSync(`${APP_DIST}/webpack`).filter((f) => f.endsWith('.js')).map((f) => read(`${APP_DIST}/webpack/${f}`)).join('\n');
  for (const name of ['capture-processor', 'playback-processor']) {
    const emitted = readdirSync(`${APP_DIST}/webpack/assets`).filter((f) => f.startsWith(`${name}-`));
    assert.equal(emitted.length, 1, `${name} emitted once`);
    // webpack's minifier goes over every emitted .js, assets too: the processor is the same, renamed.
    const code = read(`${APP_DIST}/webpack/assets/${emitted[0]}`);
    assert.match(code, new RegExp(`"voice-agent-${name.split('-')[0]}"`));
    assert.match(code, /registerProcessor\(/);
    assert.doesNotMatch(code, /^import|\bimport\(/m, 'still one import-free module');
    assert.ok(main.includes(`assets/${emitted[0]}`), `the bundle refers to ${emitted[0]}`);
  }
  assert.doesNotMatch(main, /data:text\/javascript;base64,[A-Za-z0-9+/]{16}/);
});

test('an app that uses Lit itself bundles one Lit', () => {
  need();
  const code = pageCode('lit');
  assert.equal(code.match(/litHtmlVersions/g)?.length, 1, 'one lit-html');
  assert.equal(code.match(/litElementVersions/g)?.length, 1, 'one lit-element');
});

test('importing one class from ./element leaves Lit and the element out', () => {
  need();
  const code = pageCode('shaken');
  assert.ok(code.includes('config-invalid'));
  assert.ok(!code.includes('litHtmlVersions') && !code.includes('voice-agent-capture'), 'tree-shaken');
  assert.ok(code.length < 4000, `${code.length} bytes`);
});

test('the recipes in docs/recipes are the ones the apps were built from', () => {
  need();
  for (const file of ['react/VoiceAgentCall.tsx', 'preact/VoiceAgentCall.tsx', 'vue/VoiceAgentCall.vue', 'svelte/VoiceAgentCall.svelte']) {
    assert.equal(read(`${APP_DIR}/src/recipes/${file}`), read(`${root}docs/recipes/${file}`), `${file} is current`);
  }
});

test('under `vite dev` (dependencies pre-bundled) the worklet URLs still reach the files', async () => {
  need();
  const { createServer } = await import('vite');
  const server = await createServer({
    root: `${APP_DIR}/src`,
    configFile: false,
    logLevel: 'silent',
    server: { host: '127.0.0.1', port: 0 },
    optimizeDeps: { entries: ['main-plain.ts'] },
  });
  await server.listen();
  try {
    const { port } = server.httpServer.address();
    const origin = `http://127.0.0.1:${port}`;
    const entry = await (await fetch(`${origin}/main-plain.ts`)).text();
    const dependency = /"(\/[^"]*voice-agent-widget[^"]*)"/.exec(entry)?.[1];
    assert.ok(dependency, 'the app imports the package');
    // The package module, and the call engine it loads on demand (where the worklet URLs are).
    const served = await (await fetch(origin + dependency)).text();
    const engine = /import\(["']([^"']*engine[^"']*)["']\)/.exec(served)?.[1];
    assert.ok(engine, 'the package loads its call engine on demand');
    const engineUrl = new URL(engine, origin + dependency).href;
    const code = await (await fetch(engineUrl)).text();
    for (const name of ['capture-processor', 'playback-processor']) {
      const url = new RegExp(`new URL\\(["']([^"']*${name}[^"']*)["']`).exec(code)?.[1];
      assert.ok(url, `${name}: a new URL(…) in the served module`);
      const response = await fetch(new URL(url, engineUrl));
      assert.equal(response.status, 200);
      // The file as published; the dev server only appends its source map comment.
      assert.ok((await response.text()).startsWith(read(`${PACKAGE}/dist/worklets/${name}.js`)), `${name}: the worklet file itself`);
    }
  } finally {
    await server.close();
  }
});
