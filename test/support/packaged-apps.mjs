#!/usr/bin/env node
/**
 * Builds the apps a user of the npm package would build, from the package as published: `npm pack`
 * makes the tarball, which is unpacked as `node_modules/voice-agent-widget` of an app in
 * test/.generated/apps/. The app's pages use the recipes in docs/recipes/ (React, Preact, Vue,
 * Svelte) and a Lit app of its own; Vite builds them into test/.generated/apps/dist/, served at
 * `/apps/` by the browser tests' server (`shaken` imports one class from `voice-agent-widget/element`,
 * to show what tree-shaking leaves; `framer` renders the Framer code component of demo/framer). Then `tsc` type-checks the TSX recipes and the misuse the
 * published types must refuse. Prints what it did; exits non-zero when any step fails.
 *
 * The other packages (lit, react, vue, …) resolve from the repository's node_modules, above the app.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const APP_DIR = `${root}test/.generated/apps`;
export const APP_DIST = `${APP_DIR}/dist`;
/** The app's pages: name → its entry module in test/support/apps/. */
export const PAGES = {
  lit: 'main-plain.ts',
  react: 'main-react.tsx',
  preact: 'main-preact.tsx',
  vue: 'main-vue.ts',
  svelte: 'main-svelte.ts',
  shaken: 'main-shaken.ts',
  'custom-tag': 'main-custom-tag.ts',
  twice: 'main-twice.ts',
  framer: 'main-framer.tsx',
};

function pack() {
  const out = `${APP_DIR}/pack`;
  mkdirSync(out, { recursive: true });
  // The package as `npm publish` would send it (dist/ is built already; no second build).
  const [{ filename, files }] = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], { cwd: root, encoding: 'utf8' }));
  const target = `${APP_DIR}/node_modules/voice-agent-widget`;
  mkdirSync(target, { recursive: true });
  execFileSync('tar', ['-xzf', `${out}/${filename}`, '-C', target, '--strip-components=1']);
  return { tarball: filename, files: files.length };
}

function writeSources() {
  // The app is a package of its own: from inside the repository's package, 'voice-agent-widget' would
  // resolve to the repository itself (a package may import itself by name), not to the tarball.
  writeFileSync(`${APP_DIR}/package.json`, JSON.stringify({ name: 'packaged-apps', private: true, type: 'module' }, null, 2));
  const src = `${APP_DIR}/src`;
  cpSync(`${root}test/support/apps`, src, { recursive: true });
  cpSync(`${root}docs/recipes`, `${src}/recipes`, { recursive: true, filter: (path) => !path.endsWith('.md') && !path.includes('/server') });
  cpSync(`${root}demo/framer/VoiceAgent.tsx`, `${src}/framer/VoiceAgent.tsx`);
  for (const [name, entry] of Object.entries(PAGES)) {
    writeFileSync(
      `${src}/${name}.html`,
      `<!doctype html>\n<html lang="en">\n  <head>\n    <meta charset="utf-8" />\n    <title>${name}</title>\n    <script type="module" src="./${entry}"></script>\n  </head>\n  <body>\n    <div id="root"></div>\n  </body>\n</html>\n`,
    );
  }
  const compilerOptions = {
    target: 'es2022',
    module: 'es2022',
    moduleResolution: 'bundler',
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    jsx: 'react-jsx',
    lib: ['es2022', 'dom', 'dom.iterable'],
    types: [],
  };
  const tsx = ['main-react.tsx', 'main-preact.tsx', 'types-negative.tsx', 'recipes/react/VoiceAgentCall.tsx', 'recipes/preact/VoiceAgentCall.tsx'];
  writeFileSync(`${src}/tsconfig.json`, JSON.stringify({ compilerOptions, files: tsx }, null, 2));
  return src;
}

/** Records what each `voice-agent-widget…` import resolved to: the test checks it is the tarball's copy. */
function recordResolutions(resolved) {
  return {
    name: 'record-package-resolutions',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (!source.startsWith('voice-agent-widget')) return null;
      const result = await this.resolve(source, importer, { ...options, skipSelf: true });
      if (result) resolved.push({ source, id: result.id });
      return result;
    },
  };
}

async function viteBuild(src) {
  const { build } = await import('vite');
  const resolved = [];
  const { default: vue } = await import('@vitejs/plugin-vue');
  const { svelte } = await import('@sveltejs/vite-plugin-svelte');
  await build({
    root: src,
    base: '/apps/',
    configFile: false,
    logLevel: 'warn',
    resolve: {
      // Framer resolves the component's CDN import and 'framer' itself; here they are the packed
      // CDN file and a stub that keeps the property controls.
      alias: [
        { find: 'https://cdn.jsdelivr.net/npm/voice-agent-widget@0/dist/cdn/voice-agent.js', replacement: 'voice-agent-widget/cdn/voice-agent.js' },
        { find: /^framer$/, replacement: `${src}/framer-stub.ts` },
      ],
    },
    plugins: [recordResolutions(resolved), vue({ template: { compilerOptions: { isCustomElement: (tag) => tag === 'voice-agent' } } }), svelte({ configFile: false })],
    build: {
      outDir: APP_DIST,
      emptyOutDir: true,
      rollupOptions: { input: Object.fromEntries(Object.keys(PAGES).map((name) => [name, `${src}/${name}.html`])) },
    },
  });
  writeFileSync(`${APP_DIR}/resolutions.json`, JSON.stringify(resolved, null, 2));
  return readdirSync(`${APP_DIST}/assets`);
}

/** The same package in a webpack 5 app (test/.generated/apps/webpack/), as a second bundler. */
async function webpackBuild(src) {
  const { default: webpack } = await import('webpack');
  const outDir = `${APP_DIST}/webpack`;
  const stats = await new Promise((resolve, reject) =>
    webpack(
      {
        mode: 'production',
        context: src,
        entry: './main-webpack.js',
        output: { path: outDir, publicPath: '/apps/webpack/', filename: 'main.js', assetModuleFilename: 'assets/[name]-[contenthash][ext]', clean: true },
        resolve: { modules: [`${APP_DIR}/node_modules`, `${root}node_modules`] },
        performance: { hints: false },
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    ),
  );
  if (stats.hasErrors()) throw new Error(stats.toString({ all: false, errors: true }));
  writeFileSync(`${outDir}/index.html`, '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>webpack</title><script src="/apps/webpack/main.js" defer></script></head>\n<body><div id="root"></div></body>\n</html>\n');
  return readdirSync(`${outDir}/assets`);
}

export async function buildPackagedApps() {
  rmSync(APP_DIR, { recursive: true, force: true });
  const packed = pack();
  const src = writeSources();
  const assets = await viteBuild(src);
  const webpackAssets = await webpackBuild(src);
  execFileSync(`${root}node_modules/.bin/tsc`, ['-p', `${src}/tsconfig.json`], { stdio: 'inherit' });
  return { ...packed, assets, webpackAssets };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { tarball, files, assets, webpackAssets } = await buildPackagedApps();
  console.log(
    `${tarball} (${files} files) → ${Object.keys(PAGES).length} pages built with Vite (${assets.length} assets), one with webpack (${webpackAssets.length} assets); the TSX recipes type-check`,
  );
}
