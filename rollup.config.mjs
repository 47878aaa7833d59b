// Builds, in order:
//   1. each AudioWorklet processor as one import-free ES module (dist/worklets/*.js);
//   2. the browser bundle dist/voice-agent.js: Lit included, minified, registers <voice-agent>,
//      with the compiled worklets inlined as a fallback for when only that one file is served;
//   3. the Node side (token handler, local agent) as dist/server/index.js.
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import resolve from '@rollup/plugin-node-resolve';
import esbuild from 'rollup-plugin-esbuild';

const WORKLETS = ['capture-processor', 'playback-processor'];

const worklets = WORKLETS.map((name) => ({
  input: `worklets/${name}.ts`,
  output: { file: `dist/worklets/${name}.js`, format: 'es' },
  plugins: [esbuild({ tsconfig: 'worklets/tsconfig.json', target: 'es2022', minify: true })],
}));

/** `virtual:worklet-sources` exports the compiled worklet files (built just before) as strings. */
function inlineWorklets() {
  const id = 'virtual:worklet-sources';
  return {
    name: 'inline-worklets',
    resolveId: (source) => (source === id ? `\0${id}` : null),
    load(resolved) {
      if (resolved !== `\0${id}`) return null;
      const entries = WORKLETS.map((name) => {
        const file = `dist/worklets/${name}.js`;
        this.addWatchFile(file);
        return `${JSON.stringify(name)}: ${JSON.stringify(readFileSync(file, 'utf8'))}`;
      });
      return `export const inlineWorklets = {${entries.join(',')}};`;
    },
  };
}

const browser = {
  input: 'src/voice-agent.ts',
  output: { file: 'dist/voice-agent.js', format: 'es' },
  plugins: [
    inlineWorklets(),
    resolve({ browser: true }),
    esbuild({ tsconfig: 'src/tsconfig.json', target: 'es2022', minify: true, legalComments: 'none' }),
  ],
};

const server = {
  input: 'src/server/index.ts',
  output: { file: 'dist/server/index.js', format: 'es' },
  external: [...builtinModules, ...builtinModules.map((m) => `node:${m}`), 'ws'],
  plugins: [esbuild({ tsconfig: 'src/server/tsconfig.json', target: 'node20', platform: 'node' })],
};

export default [...worklets, browser, server];
