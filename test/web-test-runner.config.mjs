/**
 * Browser tests in Debian's (or any system) Chromium with real AudioContexts and worklets, a fake
 * microphone fed from a WAV file, the real local agent and token handler on 127.0.0.1, and a
 * fault-injecting socket server. Run through `npm test` (test/run.mjs), which builds first.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import { defaultReporter } from '@web/test-runner';
import { findChrome } from './support/chrome.mjs';
import { ensureFixtures } from './support/fixtures.mjs';
import { summaryReporter } from './support/summary-reporter.mjs';
import { agentTestServer, agentTestRoutes, PORT } from './support/agent-test-server.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(`${root}dist/voice-agent.js`)) throw new Error('Build first: npm run build (npm test does it for you).');
const chrome = findChrome();
if (!chrome) throw new Error('No Chromium found. Set CHROME_PATH, or run npm test, which installs one.');
const fixtures = await ensureFixtures(root);

const BASE_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];
const browser = (args) => chromeLauncher({ launchOptions: { executablePath: chrome, headless: true, args: [...BASE_ARGS, ...args] } });

/** A microphone that "speaks" a phrase every few seconds (test/support/fixtures.mjs). */
const withMicrophone = browser([
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  `--use-file-for-fake-audio-capture=${fixtures.speechLoop}`,
]);
/** The permission prompt is never answered with "allow": getUserMedia fails with NotAllowedError. */
const withMicrophoneDenied = browser(['--use-fake-device-for-media-stream']);

export default {
  rootDir: root,
  port: PORT,
  hostname: '127.0.0.1',
  nodeResolve: { exportConditions: ['development'] },
  concurrency: 1,
  middleware: [agentTestRoutes],
  files: ['test/browser/**/*.test.ts', '!test/browser/mic-denied.test.ts'],
  browsers: [withMicrophone],
  groups: [{ name: 'mic-denied', files: ['test/browser/mic-denied.test.ts'], browsers: [withMicrophoneDenied] }],
  plugins: [esbuildPlugin({ ts: true, target: 'es2022', tsconfig: `${root}test/tsconfig.json` }), agentTestServer()],
  testFramework: { config: { ui: 'bdd', timeout: 30_000 } },
  testsFinishTimeout: 300_000,
  browserStartTimeout: 60_000,
  filterBrowserLogs: ({ args }) => !args.some((a) => typeof a === 'string' && a.includes('Lit is in dev mode')),
  reporters: [defaultReporter(), summaryReporter({ outFile: `${root}test/.generated/browser-results.json` })],
};

