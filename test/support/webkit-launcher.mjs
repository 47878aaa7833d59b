/**
 * A web-test-runner launcher for WebKitGTK's MiniBrowser, driven by WebKitWebDriver (WebDriver
 * classic) under its own Xvfb display, with a watchdog.
 *
 * WebKit's web process can deadlock inside GStreamer while it closes audio; from then on every
 * WebDriver call hangs. It can also crash (a segfault on its AudioWorklet thread), and then the
 * driver ends the session. While a test file runs, the watchdog pings the page; when a ping gets no
 * answer in time, or the session is gone, it kills the driver, the browser and the display, starts
 * them afresh, and records which test file was running (`restarts`), so the runner can run that file
 * again once and say so. A page that cannot be opened because the session is gone gets a fresh
 * browser the same way.
 */
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { WebdriverLauncher } from '@web/test-runner-webdriver';

export const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
export const WEBKIT_DRIVER = '/usr/bin/WebKitWebDriver';

/**
 * Every restart: the session whose page stopped answering, whether it `hung` or `crashed`, and
 * whether that was while its tests ran (its results are lost: the file must run again), while its
 * page was opened (it then runs in the new browser) or while the page was left (its results are in).
 * Read by the summary reporter in the same process.
 */
export const restarts = [];

const PING_EVERY_MS = 5_000;
const PING_TIMEOUT_MS = 20_000;

class WebKitLauncher {
  type = 'webdriver';
  name = 'WebKit';

  constructor({ args, env, port }) {
    this.args = args;
    this.env = env;
    this.port = port;
    this.active = new Set();
    /** Each session's page URL, kept here: it outlives a restarted driver. */
    this.urls = new Map();
  }

  async initialize(config, testFiles) {
    this.config = config;
    this.testFiles = testFiles;
    await this.startDriver();
  }

  async startDriver() {
    this.driverProcess = spawn('xvfb-run', ['-a', WEBKIT_DRIVER, `--port=${this.port}`, '--replace-on-new-session'], {
      env: { ...process.env, ...this.env },
      stdio: 'ignore',
      detached: true, // its own process group: a restart ends Xvfb, the driver and every browser process
    });
    await waitForPort(this.port, 15_000);
    this.inner = new WebdriverLauncher({
      hostname: '127.0.0.1',
      port: this.port,
      logLevel: 'error',
      connectionRetryCount: 0,
      capabilities: {
        browserName: 'MiniBrowser',
        'wdio:enforceWebDriverClassic': true,
        'webkitgtk:browserOptions': { binary: MINIBROWSER, args: this.args },
      },
    });
    await this.inner.initialize(this.config, this.testFiles);
  }

  killDriver() {
    const child = this.driverProcess;
    this.driverProcess = undefined;
    if (child && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** Starts a fresh browser, once per lost session (the watchdog and the runner may both find it lost). */
  restart(sessionId, during, cause = 'hung') {
    if (restarts.some((r) => r.sessionId === sessionId && r.during === during)) return this.restarting;
    restarts.push({ sessionId, during, cause });
    console.log(`\n⚠ WebKit ${cause === 'hung' ? 'stopped answering' : 'crashed'} during a ${during}; restarting the browser.`);
    this.active.delete(sessionId);
    this.restarting = (async () => {
      await this.restarting;
      this.killDriver();
      await this.startDriver();
    })();
    return this.restarting;
  }

  async startSession(id, url) {
    await this.restarting;
    this.active.add(id);
    this.urls.set(id, url);
    try {
      await this.openPage(id, url);
    } catch (error) {
      if (!sessionGone(error)) throw error;
      await this.restart(id, 'start', 'crashed');
      this.active.add(id);
      await this.openPage(id, url);
    }
    this.watch(id);
  }

  /**
   * Opens the test page. WebdriverLauncher.startSession does not wait for it, and a page that cannot
   * be opened is then an unhandled rejection that ends the whole run; here it fails this session.
   */
  async openPage(id, url) {
    await this.inner.ensureManagerInitialized();
    await this.inner.driverManager.startSession(id, url);
  }

  /** Pings the page while its tests run: a ping without an answer means the web process is hung, a lost session that it crashed. */
  async watch(id) {
    while (this.active.has(id)) {
      await delay(PING_EVERY_MS);
      if (!this.active.has(id)) return;
      const state = await Promise.race([
        this.inner.driver?.execute('return 1').then(
          () => 'answered',
          (error) => (sessionGone(error) ? 'crashed' : 'answered'),
        ),
        delay(PING_TIMEOUT_MS).then(() => 'hung'),
      ]);
      if (state !== 'answered' && this.active.has(id)) {
        await this.restart(id, 'test', state);
        return;
      }
    }
  }

  isActive(id) {
    return this.active.has(id);
  }

  /** The page a session runs in; after a restart the same URL, so the runner reports a browser that went away. */
  async getBrowserUrl(id) {
    return this.urls.get(id);
  }

  async stopSession(id) {
    this.active.delete(id);
    this.urls.delete(id);
    await this.restarting;
    const stopped = await Promise.race([
      this.inner.stopSession(id).then(
        (result) => result,
        (error) => ({ gone: sessionGone(error) }),
      ),
      delay(PING_TIMEOUT_MS).then(() => undefined),
    ]);
    if (stopped === undefined) {
      // Hung while leaving the page (closing its audio): the results are in; only the browser is lost.
      await this.restart(id, 'teardown');
      return {};
    }
    if (stopped.gone) {
      // Crashed before the page could be left; whether its tests had finished is not known here, so
      // the file counts as interrupted and runs again.
      await this.restart(id, 'test', 'crashed');
      return {};
    }
    return stopped;
  }

  // Commands from @web/test-runner-commands (keyboard, mouse, screenshots) go to the driver.
  sendKeys(id, keys) {
    return this.inner.sendKeys(id, keys);
  }
  sendMouseMove(id, x, y) {
    return this.inner.sendMouseMove(id, x, y);
  }
  sendMouseClick(id, x, y, button) {
    return this.inner.sendMouseClick(id, x, y, button);
  }
  sendMouseDown(id, button) {
    return this.inner.sendMouseDown(id, button);
  }
  sendMouseUp(id, button) {
    return this.inner.sendMouseUp(id, button);
  }
  resetMouse(id) {
    return this.inner.resetMouse(id);
  }

  startDebugSession() {
    throw new Error('Debugging is not supported with WebKit here.');
  }

  async stop() {
    this.active.clear();
    await Promise.race([this.inner?.stop(), delay(5000)]);
    this.killDriver();
  }
}

/** The driver ended the session: the web process crashed (or hung past the driver's own patience). */
function sessionGone(error) {
  return /invalid session id|session deleted/i.test(`${error?.name ?? ''} ${error?.message ?? ''}`);
}

export function webkitLauncher(options) {
  return new WebKitLauncher(options);
}

async function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`WebKitWebDriver did not listen on port ${port} within ${timeoutMs} ms`);
    await delay(100);
  }
}
