/**
 * Server commands that drive the browser like a device would: `tap` touches a point on the screen
 * (Chromium's touch emulation; the mobile group's pages have a touch screen, test/support/engines.mjs).
 */
export function devicePlugin() {
  return {
    name: 'voice-agent-device',
    async executeCommand({ command, payload, session }) {
      if (command !== 'tap') return undefined;
      const page = session.browser.getPage?.(session.id);
      if (!page?.touchscreen) throw new Error('tap needs a Chromium page with touch emulation');
      await page.touchscreen.tap(payload.x, payload.y);
      return true;
    },
  };
}
