/**
 * custom-elements.json is generated from the element's JSDoc and committed. These tests fail when
 * the committed file drifts from the code, or when the code's public surface (events, custom
 * properties, parts, attributes) is not documented.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { create, ts } from '@custom-elements-manifest/analyzer';
import { litPlugin } from '@custom-elements-manifest/analyzer/src/features/framework-plugins/lit/lit.js';
import { globs, publishedPaths } from '../../custom-elements-manifest.config.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (path) => readFileSync(`${root}${path}`, 'utf8');
/** Every file the element's view is made of: the element, its styles and its UI modules. */
const VIEW_FILES = ['src/element/voice-agent-element.ts', 'src/element/voice-agent.styles.ts', ...readdirSync(`${root}src/element/ui`).map((f) => `src/element/ui/${f}`)];
const view = VIEW_FILES.map(read).join('\n');

const committed = JSON.parse(read('custom-elements.json'));
const element = committed.modules.flatMap((m) => m.declarations).find((d) => d.tagName === 'voice-agent');

test('custom-elements.json matches what the analyzer generates from the code (npm run analyze)', () => {
  const modules = globs.map((path) => ts.createSourceFile(path, read(path), ts.ScriptTarget.ES2015, true));
  const generated = create({ modules, plugins: [...litPlugin(), publishedPaths()], context: { dev: false, thirdPartyCEMs: [] } });
  assert.deepEqual(committed, JSON.parse(JSON.stringify(generated)), 'custom-elements.json is stale: run npm run analyze');
});

test('custom-elements.json names the published modules and the define of <voice-agent>', () => {
  const pkg = JSON.parse(read('package.json'));
  const paths = committed.modules.map((m) => m.path);
  assert.deepEqual(paths, ['dist/element/voice-agent-element.js', 'dist/voice-agent.js']);
  for (const path of paths) assert.ok(pkg.files.some((f) => path.startsWith(`${f}/`)), `${path} is published`);
  const define = committed.modules.flatMap((m) => m.exports ?? []).find((e) => e.kind === 'custom-element-definition');
  assert.deepEqual(define, { kind: 'custom-element-definition', name: 'voice-agent', declaration: { name: 'VoiceAgentElement', module: 'dist/element/voice-agent-element.js' } });
  assert.equal(pkg.exports['.'].default, './dist/voice-agent.js');
});

test('every public event is documented with @fires', () => {
  const names = [...read('src/events.ts').matchAll(/eventName = '([a-z-]+)'/g)].map((m) => m[1]);
  assert.equal(names.length, 13);
  assert.deepEqual(element.events.map((e) => e.name).sort(), names.sort());
});

test('every --va-* custom property the styles read is documented with @cssprop, and no other', () => {
  const used = new Set([...view.matchAll(/var\((--va-[a-z-]+)/g)].map((m) => m[1]));
  assert.deepEqual(element.cssProperties.map((p) => p.name).sort(), [...used].sort());
  for (const property of element.cssProperties) assert.ok(property.default, `${property.name} documents its default`);
});

test('every part the element renders is documented with @csspart, and no other', () => {
  const rendered = new Set();
  for (const [, value] of view.matchAll(/part="([^"]+)"/g)) {
    for (const name of value.split(/\s+/)) {
      if (name.includes('${')) for (const role of ['user', 'assistant']) rendered.add(name.replace(/\$\{[^}]+\}/, role));
      else rendered.add(name);
    }
  }
  assert.deepEqual(element.cssParts.map((p) => p.name).sort(), [...rendered].sort());
});

test('the public attributes are the documented API', () => {
  assert.deepEqual(
    element.attributes.map((a) => a.name),
    [
      'agent-id',
      'token-endpoint',
      'server-url',
      'mode',
      'variables',
      'muted',
      'input-device-id',
      'output-device-id',
      'playback',
      'worklet-base-url',
      'layout',
      'position',
      'open',
      'agent-name',
      'show-transcript',
      'theme',
      'prebuffer-ms',
      'max-buffer-ms',
      'reconnect',
      'strings',
    ],
  );
  for (const method of ['start', 'stop', 'sendText', 'show', 'hide']) assert.ok(element.members.some((m) => m.name === method && m.kind === 'method'), method);
  for (const name of ['status', 'speaking', 'transcript']) assert.ok(element.members.some((m) => m.name === name), name);
  for (const name of ['sessionOptions', 'meterSource', 'panelVisible', 'animating']) {
    assert.ok(!element.members.some((m) => m.name === name), `internal member ${name} stays out`);
  }
  for (const member of element.members.filter((m) => m.name.startsWith('_'))) assert.equal(member.privacy, 'private', member.name);
});

test('the README lists every word of the strings table, every custom property and every part', () => {
  const readme = read('README.md');
  const strings = read('src/element/strings.ts');
  const table = strings.slice(strings.indexOf('export const DEFAULT_STRINGS'), strings.indexOf('};', strings.indexOf('export const DEFAULT_STRINGS')));
  const keys = [...table.matchAll(/^  (\w+): '/gm)].map((m) => m[1]);
  assert.ok(keys.length > 40, `found ${keys.length} keys`);
  for (const key of keys) assert.ok(readme.includes(`| \`${key}\` |`), `README lists the string ${key}`);
  for (const { name } of element.cssProperties) assert.ok(readme.includes(`\`${name}\``), `README lists ${name}`);
  for (const { name } of element.cssParts) assert.ok(readme.includes(`\`${name}\``), `README lists the part ${name}`);
});
