/**
 * The three browser engines the suite runs in, each from Debian's packages: how to find it, which
 * system packages it needs, and how web-test-runner launches it for each test group.
 *
 * Groups (one browser configuration each):
 * - default: every test file, with a microphone that speaks the suite's phrase every 6 s.
 *   Chromium plays the WAV through its fake capture device; Firefox and WebKit record it from the
 *   private PulseAudio server (test/support/pulse.mjs), which is also their speaker.
 * - `mic-refused`: getUserMedia cannot succeed. Chromium and Firefox refuse the permission;
 *   WebKitWebDriver has no permission command and MiniBrowser grants every request under automation,
 *   so WebKit runs it with no microphone at all.
 * - `audio-blocked`: the AudioContext can never start. Chromium and WebKit by their autoplay
 *   policies (the test starts without a user gesture); Firefox with no audio output device.
 * - `mobile` (Chromium only): a 390 × 844 touch viewport through Chromium's device emulation.
 * - `keyboard`: real key presses, in a window no earlier test file has used (keys need its focus).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as puppeteer from 'puppeteer-core';
import { chromeLauncher } from '@web/test-runner-chrome';
import { findChrome } from './chrome.mjs';
import { MINIBROWSER, WEBKIT_DRIVER, webkitLauncher } from './webkit-launcher.mjs';

export const ENGINES = ['chromium', 'firefox', 'webkit'];
const NO_PULSE = 'unix:/nonexistent/pulse-native';

const WEBKIT_PACKAGES = [
  'webkit2gtk-driver',
  'libwebkit2gtk-4.1-0',
  'xvfb',
  'xauth',
  'gstreamer1.0-gl',
  'gstreamer1.0-plugins-bad',
  'gstreamer1.0-libav',
  'gstreamer1.0-alsa',
  'gstreamer1.0-pulseaudio',
  'libgl1-mesa-dri',
];

/** Debian packages each engine needs (pulseaudio is the speaker and microphone of Firefox and WebKit). */
export const PACKAGES = {
  chromium: ['chromium'],
  firefox: ['firefox-esr', 'pulseaudio'],
  webkit: [...WEBKIT_PACKAGES, 'pulseaudio'],
};

export function findFirefox() {
  const path = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
  return existsSync(path) ? path : undefined;
}

/** Whether an engine's programs are on this machine. */
export function engineAvailable(engine) {
  switch (engine) {
    case 'chromium':
      return Boolean(findChrome());
    case 'firefox':
      return Boolean(findFirefox()) && hasCommand('pulseaudio');
    case 'webkit':
      return existsSync(MINIBROWSER) && existsSync(WEBKIT_DRIVER) && hasCommand('xvfb-run') && hasCommand('pulseaudio');
    default:
      throw new Error(`Unknown engine "${engine}" (one of ${ENGINES.join(', ')})`);
  }
}

/** The engine's version, as its package or binary reports it. */
export function engineVersion(engine) {
  try {
    switch (engine) {
      case 'chromium':
        return execFileSync(findChrome(), ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      case 'firefox':
        return execFileSync(findFirefox(), ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      case 'webkit':
        return `WebKitGTK ${execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libwebkit2gtk-4.1-0'], { encoding: 'utf8' }).trim()}`;
    }
  } catch {
    return 'unknown version';
  }
}

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** A name for 127.0.0.1 that is not loopback to the browser, so a page served under it is not a secure context. */
export const INSECURE_HOST = 'insecure.test';

const CHROMIUM_ARGS = [
  `--host-resolver-rules=MAP ${INSECURE_HOST} 127.0.0.1`,
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function chromium(args, createPage) {
  return chromeLauncher({
    launchOptions: { executablePath: findChrome(), headless: true, args: [...CHROMIUM_ARGS, ...args] },
    ...(createPage ? { createPage } : {}),
  });
}

/**
 * A page with a phone's screen. The runner sets an 800 × 600 viewport before each test file (and a
 * change of touch support reloads the page), so its viewport calls get the phone's screen instead.
 */
const PHONE = { width: 390, height: 844, deviceScaleFactor: 3, isMobile: true, hasTouch: true };
async function phonePage({ context }) {
  const page = await context.newPage();
  const setViewport = page.setViewport.bind(page);
  page.setViewport = () => setViewport(PHONE);
  await page.setViewport();
  return page;
}

const FIREFOX_PREFS = {
  'network.dns.localDomains': INSECURE_HOST,
  'media.navigator.permission.disabled': true,
  'media.navigator.streams.fake': false,
  'media.autoplay.default': 0,
  'media.autoplay.block-webaudio': false,
};

function firefox(prefs, env) {
  return chromeLauncher({
    puppeteer,
    launchOptions: {
      browser: 'firefox',
      executablePath: findFirefox(),
      headless: true,
      extraPrefsFirefox: { ...FIREFOX_PREFS, ...prefs },
      env: { ...process.env, ...env },
    },
  });
}

const WEBKIT_ARGS = ['--automation', '--enable-media-stream=true', '--enable-mock-capture-devices=false', '--enable-webaudio=true'];
/** WebKitWebDriver ports: one per browser group, apart for runs on another VA_TEST_PORT. */
let webkitPort = 4444 + (Number(process.env.VA_TEST_PORT ?? 8129) % 100) * 10;

function webkit(args, env) {
  return webkitLauncher({ args: [...WEBKIT_ARGS, ...args], env, port: webkitPort++ });
}

/**
 * web-test-runner `browsers` and `groups` for one engine. `speechWav` is the microphone's recording;
 * `pulse` the PulseAudio server's environment (Firefox and WebKit).
 */
export function engineSetup(engine, { speechWav, pulse }) {
  switch (engine) {
    case 'chromium':
      const microphone = [
        '--autoplay-policy=no-user-gesture-required',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-audio-capture=${speechWav}`,
      ];
      return {
        browser: chromium(microphone),
        groups: {
          keyboard: chromium(microphone),
          // No fake UI: the permission prompt is never answered "allow" → NotAllowedError.
          'mic-refused': chromium(['--autoplay-policy=no-user-gesture-required', '--use-fake-device-for-media-stream']),
          'audio-blocked': chromium([
            '--autoplay-policy=document-user-activation-required',
            '--use-fake-ui-for-media-stream',
            '--use-fake-device-for-media-stream',
          ]),
          mobile: chromium(microphone, phonePage),
        },
      };
    case 'firefox':
      return {
        browser: firefox({}, pulse),
        groups: {
          keyboard: firefox({}, pulse),
          'mic-refused': firefox({ 'media.navigator.permission.disabled': false, 'permissions.default.microphone': 2 }, pulse),
          // No audio output device: the context never leaves `suspended`. Its fake device is the microphone.
          'audio-blocked': firefox({ 'media.navigator.streams.fake': true }, { PULSE_SERVER: NO_PULSE }),
        },
      };
    case 'webkit':
      return {
        browser: webkit(['--autoplay-policy=allow'], pulse),
        groups: {
          keyboard: webkit(['--autoplay-policy=allow'], pulse),
          // No sound server: no capture device at all.
          'mic-refused': webkit(['--autoplay-policy=allow'], { PULSE_SERVER: NO_PULSE }),
          'audio-blocked': webkit(['--autoplay-policy=deny'], pulse),
        },
      };
    default:
      throw new Error(`Unknown engine "${engine}" (one of ${ENGINES.join(', ')})`);
  }
}
