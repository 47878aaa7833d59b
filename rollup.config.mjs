// Builds, in order:
//   1. each AudioWorklet processor as one import-free ES module, for the npm layout
//      (dist/worklets/*.js) and beside the CDN files (dist/cdn/worklets/*.js);
//   2. the CDN files, Lit included, minified, registering <voice-agent>: dist/cdn/voice-agent.js
//      (worklets and the device menu's chunk beside it), dist/cdn/voice-agent.standalone.js (one
//      ES module: worklets inlined as a fallback, for a site that serves that one file alone) and
//      dist/cdn/voice-agent.iife.js (the same as a classic script);
//   3. the locale modules for the CDN (dist/cdn/locales/*.js), one plain ES module each;
//   4. the Node side: the token handler (dist/server/index.js, no dependencies), the local agent
//      (dist/local-agent/index.js, `ws` external) and the command line (dist/cli/index.js).
// The npm layout's browser modules (dist/*.js, Lit external, declarations beside them) come from
// `tsc -p src/tsconfig.npm.json`, run by `npm run build` after this.
import { builtinModules } from 'node:module';
import resolve from '@rollup/plugin-node-resolve';
import esbuild from 'rollup-plugin-esbuild';
import * as esbuildApi from 'esbuild';
import { minify } from 'terser';

const WORKLETS = ['capture-processor', 'playback-processor'];
/**
 * Private members are named `_like` this (Lit's convention) and shortened in the browser builds.
 * Lit's own mangled names start `_$` and are left alone.
 */
const MANGLE = { mangleProps: /^_[a-z]/ };

const worklets = WORKLETS.map((name) => ({
  input: `worklets/${name}.ts`,
  output: ['dist/worklets', 'dist/cdn/worklets'].map((dir) => ({ file: `${dir}/${name}.js`, format: 'es' })),
  plugins: [esbuild({ tsconfig: 'worklets/tsconfig.json', target: 'es2022', minify: true, ...MANGLE })],
}));

/**
 * `virtual:worklet-sources` exports both worklet processors as one module's source text: bundled
 * together, their shared code (resampler, PCM helpers) appears once. Its `registerProcessor` ignores a
 * name already registered, so the module also loads where one processor's file already did.
 */
function inlineWorklets() {
  const id = 'virtual:worklet-sources';
  return {
    name: 'inline-worklets',
    resolveId: (source) => (source === id ? `\0${id}` : null),
    async load(resolved) {
      if (resolved !== `\0${id}`) return null;
      for (const name of WORKLETS) this.addWatchFile(`worklets/${name}.ts`);
      const { outputFiles } = await esbuildApi.build({
        stdin: { contents: WORKLETS.map((name) => `import './${name}.ts';`).join('\n'), resolveDir: 'worklets', loader: 'ts' },
        bundle: true,
        write: false,
        format: 'esm',
        target: 'es2022',
        minify: true,
        ignoreAnnotations: true, // the package's `sideEffects` list would drop the processors' imports
        tsconfig: 'worklets/tsconfig.json',
        banner: { js: 'const registerProcessor=(n,p)=>{try{globalThis.registerProcessor(n,p)}catch{}};' },
        ...MANGLE,
      });
      return `export const inlineWorklets = ${JSON.stringify(outputFiles[0].text)};`;
    },
  };
}

/**
 * Collapses the whitespace (and CSS comments) in the text of Lit's css``, html`` and svg``
 * templates of the element's view, before esbuild minifies the code around them. Code inside
 * `${…}`, other template literals, string literals and comments stay as they are.
 */
function minifyTemplates() {
  return {
    name: 'minify-lit-templates',
    transform(code, id) {
      return /\/src\/element\/.*\.ts$/.test(id) ? { code: collapseTemplates(code), map: null } : null;
    },
  };
}

function collapseTemplates(source) {
  let out = '';
  /** Open template literals, innermost last; `depth` counts the braces of the `${…}` being read (0: in its text). */
  const open = [];
  let i = 0;
  while (i < source.length) {
    const top = open[open.length - 1];
    if (top && top.depth === 0) {
      let end = i;
      while (end < source.length && source[end] !== '`' && !(source[end] === '$' && source[end + 1] === '{')) end += source[end] === '\\' ? 2 : 1;
      const text = source.slice(i, end);
      out += top.kind === 'css' ? collapseCss(text) : top.kind === 'markup' ? collapseMarkup(text) : text;
      if (source[end] === '`') open.pop();
      else top.depth = 1;
      out += source[end] === '`' ? '`' : '${';
      i = end + (source[end] === '`' ? 1 : 2);
      continue;
    }
    const ch = source[i];
    let skip = 0;
    if (ch === '`') {
      const tag = /\b(css|html|svg|unsafeCSS\()\s*$/.exec(out)?.[1];
      open.push({ kind: tag === 'html' || tag === 'svg' ? 'markup' : tag ? 'css' : 'plain', depth: 0 });
      skip = 1;
    } else if (ch === "'" || ch === '"') {
      let end = i + 1;
      while (end < source.length && source[end] !== ch) end += source[end] === '\\' ? 2 : 1;
      skip = end + 1 - i;
    } else if (ch === '/' && (source[i + 1] === '/' || source[i + 1] === '*')) {
      const end = source[i + 1] === '/' ? source.indexOf('\n', i) : source.indexOf('*/', i) + 2;
      skip = (end > i ? end : source.length) - i;
    } else {
      if (top && ch === '{') top.depth++;
      if (top && ch === '}') top.depth--;
      skip = 1;
    }
    out += source.slice(i, i + skip);
    i += skip;
  }
  return out;
}

function collapseCss(text) {
  // Spaces before a colon stay: in a selector they are the descendant combinator (`.root *::before`).
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\s+/g, ' ')
    .replace(/\s*([{};,>])\s*/g, '$1')
    .replace(/:\s+/g, ':')
    .replace(/;}/g, '}');
}

/** Whitespace in markup may matter between inline elements: runs shrink to one space, never to none. */
function collapseMarkup(text) {
  return text.replace(/\s+/g, ' ');
}

/** A second, slower minifier over esbuild's output: a few percent smaller for the one file that has a budget. */
function terser() {
  return {
    name: 'terser',
    async renderChunk(code) {
      const result = await minify(code, { module: true, ecma: 2022, compress: { passes: 2 }, format: { comments: false } });
      return { code: result.code, map: null };
    },
  };
}

/**
 * The CDN files. The default one (dist/cdn/voice-agent.js) loads its worklets and the device menu
 * (voice-agent-device-menu.js, on its first use) from files beside it; the standalone module and the
 * classic script hold everything in one file.
 */
const browserPlugins = () => [
  inlineWorklets(),
  minifyTemplates(),
  resolve({ browser: true }),
  esbuild({ tsconfig: 'src/tsconfig.json', target: 'es2022', minify: true, legalComments: 'none', ...MANGLE }),
  terser(),
];
const browser = [
  {
    input: 'src/voice-agent.ts',
    // The chunk imports Lit and the rest from the bundle itself, not from a third file.
    preserveEntrySignatures: 'allow-extension',
    output: { dir: 'dist/cdn', format: 'es', entryFileNames: 'voice-agent.js', chunkFileNames: 'voice-agent-[name].js' },
    plugins: browserPlugins(),
  },
  {
    input: 'src/voice-agent-standalone.ts',
    output: { file: 'dist/cdn/voice-agent.standalone.js', format: 'es', inlineDynamicImports: true },
    plugins: browserPlugins(),
  },
  {
    input: 'src/voice-agent-standalone.ts',
    // `import.meta.url` becomes the script's own URL (document.currentScript) while it runs.
    output: { file: 'dist/cdn/voice-agent.iife.js', format: 'iife', name: 'VoiceAgentWidget', inlineDynamicImports: true },
    plugins: browserPlugins(),
  },
];

const LOCALES = ['es', 'fr', 'de', 'hi', 'ar'];
const locales = LOCALES.map((lang) => ({
  input: `src/locales/${lang}.ts`,
  output: { file: `dist/cdn/locales/${lang}.js`, format: 'es' },
  plugins: [esbuild({ tsconfig: 'src/tsconfig.json', target: 'es2022', minify: true })],
}));

const NODE_BUILTINS = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const server = {
  input: 'src/server/index.ts',
  output: { file: 'dist/server/index.js', format: 'es' },
  plugins: [esbuild({ tsconfig: 'src/server/tsconfig.json', target: 'es2022' })],
};

const localAgent = {
  input: 'src/local-agent/index.ts',
  output: { file: 'dist/local-agent/index.js', format: 'es' },
  external: [...NODE_BUILTINS, 'ws'],
  plugins: [esbuild({ tsconfig: 'src/local-agent/tsconfig.json', target: 'node20', platform: 'node' })],
};

/**
 * The command line (`voice-agent-widget token | dev`). It imports the token handler and the local
 * agent by the package's own name, so it runs the built `dist/server` and `dist/local-agent` files
 * instead of carrying copies of them.
 */
const cli = {
  input: 'src/cli/index.ts',
  output: { file: 'dist/cli/index.js', format: 'es', banner: '#!/usr/bin/env node' },
  external: [...NODE_BUILTINS, 'voice-agent-widget/server', 'voice-agent-widget/local-agent'],
  plugins: [esbuild({ tsconfig: 'src/cli/tsconfig.json', target: 'node20', platform: 'node' })],
};

export default [...worklets, ...browser, ...locales, server, localAgent, cli];
