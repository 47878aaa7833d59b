/**
 * Runs in a browser where an AudioContext can never start (its own group, test/support/engines.mjs):
 * Chromium and WebKit by their autoplay policy (the call starts without a user gesture), Firefox
 * because it has no audio output device. The widget must not show "connected" while nothing plays.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { ENGINE, expectAllReleased, installSpies, loadBundle, part, recordEvents, type VoiceAgentElement } from '../support/harness.js';

const spies = installSpies();
await loadBundle();

describe(`an AudioContext that never starts (${ENGINE})`, () => {
  it('ends the start with audio-failed and a sentence within the start timeout', async () => {
    const el = await fixture<VoiceAgentElement>(
      html`<voice-agent agent-id="a1" token-endpoint="/api/voice-token" .sessionOptions=${{ audio: { startTimeoutMs: 1500 } }}></voice-agent>`,
    );
    const events = recordEvents(el);
    const started = performance.now();
    await el.start(); // programmatic: no user gesture
    await el.updateComplete;
    const elapsed = performance.now() - started;
    expect(spies.contexts.at(-1)!.state, 'the context never ran').not.to.equal('running');
    const errors = events.filter((e) => e.type === 'va-error').map((e) => e.detail);
    expect(errors.map((e) => [e.code, e.fatal])).to.deep.equal([['audio-failed', true]]);
    expect(errors[0].message).to.match(/^Audio did not start within 1500 ms \(the AudioContext stayed "suspended"\)/);
    expect(elapsed).to.be.within(1500, 10_000);
    const statuses = events.filter((e) => e.type === 'va-status-change').map((e) => e.detail.status);
    expect(statuses).to.deep.equal(['connecting', 'disconnecting', 'disconnected']);
    expect(events.some((e) => e.type === 'va-connect')).to.equal(false);
    expect(part(el, 'error')!.textContent).to.contain('speaker or headphones');
    await expectAllReleased(spies);
  });
});
