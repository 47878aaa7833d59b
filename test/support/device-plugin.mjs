/**
 * Server commands that drive the browser like a device would:
 * - `tap` touches a point on the screen (Chromium's touch emulation; the mobile group's pages have a
 *   touch screen, test/support/engines.mjs).
 * - `pulse-plug` plugs a device into the suite's PulseAudio server (Firefox and WebKit): a
 *   `microphone` (a source that hears the same speech as the default one) or a `speaker` (a null
 *   sink), named `description`; it answers the module to unplug. `pulse-unplug` unplugs it.
 * - `js-heap` (Chromium): collects garbage in the page and answers `{ usedBytes }`, its used JS heap,
 *   through the DevTools protocol; `usedBytes` is `null` in the engines that have no such protocol here.
 */
import { spawnSync } from 'node:child_process';

function pactl(...args) {
  if (!process.env.PULSE_SERVER) throw new Error('pulse-plug needs the suite PulseAudio server (Firefox and WebKit runs)');
  const run = spawnSync('pactl', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`pactl ${args.join(' ')}: ${run.stderr.trim()}`);
  return run.stdout.trim();
}

let plugged = 0;

export function devicePlugin() {
  return {
    name: 'voice-agent-device',
    async executeCommand({ command, payload, session }) {
      switch (command) {
        case 'tap': {
          const page = session.browser.getPage?.(session.id);
          if (!page?.touchscreen) throw new Error('tap needs a Chromium page with touch emulation');
          await page.touchscreen.tap(payload.x, payload.y);
          return true;
        }
        case 'pulse-plug': {
          const name = `test_device_${++plugged}`;
          const description = `device.description='${payload.description}'`;
          return payload.kind === 'speaker'
            ? pactl('load-module', 'module-null-sink', `sink_name=${name}`, `sink_properties="${description}"`)
            : pactl('load-module', 'module-remap-source', 'master=micfeed.monitor', `source_name=${name}`, 'channels=1', `source_properties="${description}"`);
        }
        case 'js-heap': {
          const page = session.browser.getPage?.(session.id);
          if (!page?.createCDPSession) return { usedBytes: null };
          let cdp;
          try {
            cdp = await page.createCDPSession();
          } catch {
            return { usedBytes: null }; // Firefox over WebDriver BiDi: no DevTools protocol.
          }
          try {
            await cdp.send('HeapProfiler.collectGarbage');
            const { usedSize } = await cdp.send('Runtime.getHeapUsage');
            return { usedBytes: usedSize };
          } finally {
            await cdp.detach().catch(() => {});
          }
        }
        case 'pulse-unplug':
          pactl('unload-module', payload.module);
          return true;
        default:
          return undefined;
      }
    },
  };
}
