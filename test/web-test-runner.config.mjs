/**
 * Browser tests in one engine (`VA_ENGINE`: chromium, firefox or webkit; test/browser.mjs runs each)
 * with real AudioContexts and worklets, a microphone that speaks, the real local agent and token
 * handler on 127.0.0.1, and a fault-injecting socket server. Built bundle first: `npm test` and
 * `npm run test:browser` build and start what this needs (PulseAudio for Firefox and WebKit).
 *
 * `VA_FILES` (comma-separated) limits the run to those files, for a re-run after a browser restart.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { defaultReporter } from '@web/test-runner';
import { ENGINES, engineSetup } from './support/engines.mjs';
import { ensureFixtures } from './support/fixtures.mjs';
import { summaryReporter } from './support/summary-reporter.mjs';
import { agentTestServer, agentTestRoutes, PORT } from './support/agent-test-server.mjs';
import { devicePlugin } from './support/device-plugin.mjs';
import { reactBundlePlugin } from './support/react-bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(`${root}dist/cdn/voice-agent.js`)) throw new Error('Build first: npm run build (npm test does it for you).');
const engine = process.env.VA_ENGINE ?? 'chromium';
if (!ENGINES.includes(engine)) throw new Error(`VA_ENGINE must be one of ${ENGINES.join(', ')}`);
const fixtures = await ensureFixtures(root);
const pulse = process.env.PULSE_SERVER ? { PULSE_SERVER: process.env.PULSE_SERVER } : undefined;
if (engine !== 'chromium' && !pulse) throw new Error(`${engine} needs the suite's PulseAudio server: run it through npm run test:browser.`);

/** Test files that need a browser of their own (see test/support/engines.mjs). */
const GROUP_FILES = {
  'mic-refused': ['test/browser/mic-refused.test.ts'],
  'audio-blocked': ['test/browser/audio-blocked.test.ts'],
  mobile: ['test/browser/mobile.test.ts'],
  keyboard: ['test/browser/keyboard.test.ts'],
};
const only = process.env.VA_FILES ? new Set(process.env.VA_FILES.split(',')) : undefined;
const pick = (files) => (only ? files.filter((f) => only.has(f)) : files);

const { browser, groups } = engineSetup(engine, { speechWav: fixtures.speechLoop, pulse });
const everyGroupFile = Object.values(GROUP_FILES).flat();
const files = only ? [...only].filter((f) => !everyGroupFile.includes(f)) : ['test/browser/**/*.test.ts', ...everyGroupFile.map((f) => `!${f}`)];

export default {
  rootDir: root,
  port: PORT,
  hostname: '127.0.0.1',
  nodeResolve: { exportConditions: ['development'] },
  concurrency: 1,
  middleware: [agentTestRoutes],
  // web-test-runner refuses an empty default file list; a run of group files only has none.
  ...(files.length > 0 ? { files } : {}),
  browsers: [browser],
  groups: Object.entries(groups)
    .map(([name, groupBrowser]) => ({ name, files: pick(GROUP_FILES[name]), browsers: [groupBrowser] }))
    .filter((group) => group.files.length > 0),
  plugins: [esbuildPlugin({ ts: true, target: 'es2022', tsconfig: `${root}test/tsconfig.json` }), agentTestServer(), devicePlugin(), reactBundlePlugin()],
  testFramework: { config: { ui: 'bdd', timeout: 30_000 } },
  testsStartTimeout: 60_000,
  testsFinishTimeout: 240_000,
  browserStartTimeout: 60_000,
  filterBrowserLogs: ({ args }) => !args.some((a) => typeof a === 'string' && a.includes('Lit is in dev mode')),
  reporters: [defaultReporter(), summaryReporter({ outFile: `${root}test/.generated/browser-results-${engine}-${process.env.VA_TEST_PORT ?? 8129}.json`, engine })],
};
