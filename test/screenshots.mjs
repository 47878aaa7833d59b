#!/usr/bin/env node
/**
 * `npm run screenshots`: pictures of every state of the widget, light and dark, floating (closed and
 * open), inline and on a 390 px phone, taken from the real demo page in headless Chromium during
 * real calls to the local agent. Written to docs/screenshots/*.png (the README shows some).
 *
 * To hold a state long enough to photograph it, the page's getUserMedia and fetch are paused or
 * answered for the moment; everything else is the real call.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { chromiumWithMicrophone, findChrome } from './support/chrome.mjs';
import { ensureFixtures } from './support/fixtures.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}docs/screenshots`;
mkdirSync(out, { recursive: true });
const { speechLoop } = await ensureFixtures(root);

const server = spawn(process.execPath, ['demo/server.mjs'], { cwd: root, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
const origin = await new Promise((resolve, reject) => {
  server.stdout.on('data', (chunk) => {
    const url = /on (http:\/\/\S+?)\/? /.exec(String(chunk))?.[1];
    if (url) resolve(url);
  });
  server.once('exit', () => reject(new Error('the demo server stopped')));
});

const browser = await puppeteer.launch({
  executablePath: findChrome(),
  headless: true,
  args: [...chromiumWithMicrophone(speechLoop, { loop: false }), '--hide-scrollbars'],
});

const taken = [];

async function page(theme, viewport = { width: 1100, height: 780 }) {
  const tab = await browser.newPage();
  await tab.setViewport(viewport);
  await tab.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: theme }]);
  await tab.goto(`${origin}/`);
  await tab.waitForFunction(() => customElements.get('voice-agent'));
  // Hooks that hold a state: the microphone request and the token request wait until released; the
  // AudioContexts made are kept, so a shot can suspend one as the browser would.
  await tab.evaluate(() => {
    window.contexts = [];
    window.sockets = [];
    const RealSocket = window.WebSocket;
    window.WebSocket = class extends RealSocket {
      constructor(url, protocols) {
        super(url, protocols);
        window.sockets.push(this);
      }
    };
    const RealContext = window.AudioContext;
    window.AudioContext = class extends RealContext {
      constructor(options) {
        super(options);
        window.contexts.push(this);
      }
    };
    const hold = (name) => new Promise((resolve) => (window[`release_${name}`] = resolve));
    const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (c) => (window.holdMicrophone ? (await hold('microphone'), gum(c)) : gum(c));
    const realFetch = window.fetch.bind(window);
    window.fetch = async (url, init) => {
      if (window.refuseToken) return new Response('{"error":"forbidden"}', { status: 403, headers: { 'content-type': 'application/json' } });
      if (window.holdToken) await hold('token');
      return realFetch(url, init);
    };
  });
  return tab;
}

async function shot(tab, name, clip) {
  await tab.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  const path = `${out}/${name}.png`;
  await tab.screenshot({ path, ...(clip ? { clip } : {}) });
  taken.push(path);
}

const el = (id) => `document.querySelector('#${id}')`;
/** As after a pointer click: show() focuses the panel once rendered, and a pointer user sees no ring. */
const unfocus = (tab) => tab.evaluate(`${el('floating')}.updateComplete.then(() => ${el('floating')}.shadowRoot.activeElement?.blur())`);
const waitFor = (tab, expression, timeout = 15_000) => tab.waitForFunction(expression, { timeout });

async function floating(theme) {
  const tab = await page(theme);
  const corner = { x: 1100 - 440, y: 780 - 720, width: 440, height: 720 };
  await shot(tab, `floating-closed-${theme}`);
  await tab.evaluate(`${el('floating')}.show()`);
  await unfocus(tab);
  await shot(tab, `floating-open-idle-${theme}`, corner);

  await tab.evaluate('window.holdMicrophone = true; window.holdToken = true');
  await tab.evaluate(`void ${el('floating')}.start()`);
  await unfocus(tab);
  await waitFor(tab, `${el('floating')}.shadowRoot.querySelector('[part~="hint"]')`);
  await shot(tab, `floating-open-microphone-${theme}`, corner);
  await tab.evaluate('window.holdMicrophone = false; window.release_microphone()');
  await waitFor(tab, `${el('floating')}.shadowRoot.querySelector('[part~="status"]').textContent === 'Connecting…'`);
  await shot(tab, `floating-open-connecting-${theme}`, corner);
  await tab.evaluate('window.holdToken = false; window.release_token()');
  await waitFor(tab, `${el('floating')}.speaking`);
  await new Promise((resolve) => setTimeout(resolve, 1200));
  await shot(tab, `floating-open-speaking-${theme}`, corner);
  await waitFor(tab, `${el('floating')}.transcript.some((e) => e.role === 'user')`);
  await waitFor(tab, `!${el('floating')}.speaking && ${el('floating')}.status === 'connected'`);
  await shot(tab, `floating-open-listening-${theme}`, corner);
  // The device menu, opened and closed with real clicks on its button.
  const deviceButton = await tab.evaluateHandle(`${el('floating')}.shadowRoot.querySelector('[part~="device-button"]')`);
  await deviceButton.click();
  await waitFor(tab, `${el('floating')}.shadowRoot.activeElement?.getAttribute('part') === 'device-option'`);
  await shot(tab, `floating-open-devices-${theme}`, corner);
  await deviceButton.click();
  await unfocus(tab);
  // The browser suspends the call's audio (a phone call, a background tab): the panel asks for a tap.
  await tab.evaluate('window.contexts.at(-1).suspend()');
  await waitFor(tab, `${el('floating')}.matches(':state(paused)')`);
  await shot(tab, `floating-open-paused-${theme}`, corner);
  await tab.evaluate(`${el('floating')}.shadowRoot.querySelector('[part~="resume-button"]').click()`);
  await waitFor(tab, `!${el('floating')}.matches(':state(paused)')`);
  await unfocus(tab);
  await tab.evaluate(`${el('floating')}.muted = true`);
  await shot(tab, `floating-open-muted-${theme}`, corner);
  await tab.evaluate(`${el('floating')}.hide()`);
  await shot(tab, `floating-closed-in-call-${theme}`, corner);
  await tab.evaluate(`${el('floating')}.show(); ${el('floating')}.muted = false`);
  await unfocus(tab);
  // The connection drops (any close but 1000 and 4000 is restored); the fresh token is held a moment.
  await tab.evaluate('window.holdToken = true; window.sockets.at(-1).close(4001)');
  await waitFor(tab, `${el('floating')}.shadowRoot.querySelector('[part~="status"]').textContent === 'Reconnecting…'`);
  await shot(tab, `floating-open-reconnecting-${theme}`, corner);
  await tab.evaluate('window.holdToken = false; window.release_token()');
  await waitFor(tab, `${el('floating')}.status === 'connected' && ${el('floating')}.shadowRoot.querySelector('[part~="transcript-mark"]')`);
  await shot(tab, `floating-open-reconnected-${theme}`, corner);
  await tab.evaluate(`void ${el('floating')}.stop()`);
  await waitFor(tab, `${el('floating')}.status === 'disconnected'`);
  await shot(tab, `floating-open-ended-${theme}`, corner);

  await tab.evaluate('window.refuseToken = true');
  await tab.evaluate(`void ${el('floating')}.start()`);
  await waitFor(tab, `${el('floating')}.shadowRoot.querySelector('[part~="error"]')`);
  await shot(tab, `floating-open-error-${theme}`, corner);
  await tab.close();
}

async function inline(theme) {
  const tab = await page(theme, { width: 1100, height: 900 });
  await tab.evaluate(`${el('chat')}.start().then(() => ${el('chat')}.sendText('Do you have a table for two tonight?'))`);
  await waitFor(tab, `${el('chat')}.transcript.some((e) => e.role === 'assistant' && e.final)`);
  await tab.evaluate(`void ${el('inline')}.start()`);
  await waitFor(tab, `${el('inline')}.transcript.some((e) => e.role === 'user' && e.final)`);
  const grid = await tab.$('main.grid');
  const box = await grid.boundingBox();
  await shot(tab, `inline-${theme}`, { x: box.x, y: box.y, width: box.width, height: Math.min(box.height, 560) });
  await tab.close();
}

async function phone(theme) {
  const tab = await page(theme, { width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await shot(tab, `phone-closed-${theme}`);
  await tab.evaluate(`void ${el('floating')}.start()`);
  await waitFor(tab, `${el('floating')}.transcript.some((e) => e.role === 'user' && e.final)`);
  await shot(tab, `phone-open-${theme}`);
  await tab.close();
}

try {
  for (const theme of ['light', 'dark']) {
    await floating(theme);
    await inline(theme);
    await phone(theme);
  }
  console.log(`${taken.length} screenshots in docs/screenshots/`);
} finally {
  await browser.close();
  server.kill();
}
