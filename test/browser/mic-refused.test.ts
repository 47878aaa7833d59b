/** Runs in a browser whose microphone permission is never granted (its own test group). */
import { expect, fixture, html } from '@open-wc/testing';
import { expectAllReleased, installSpies, loadBundle, part, recordEvents, serverCommand, type VoiceAgentElement } from '../support/harness.js';

const spies = installSpies();
await loadBundle();

describe('a denied microphone', () => {
  it('gives mic-denied, asks no token, opens no socket, and tells the user what to do', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent token-endpoint="/api/voice-token?probe=mic-denied"></voice-agent>`);
    const events = recordEvents(el);
        part(el, 'call-button')!.click();
    await el.start();
    await el.updateComplete;
    const errors = events.filter((e) => e.type === 'va-error').map((e) => e.detail);
    expect(errors).to.deep.equal([{ code: 'mic-denied', message: 'Microphone access was denied.', fatal: true }]);
    expect(events.filter((e) => e.type === 'va-status-change').map((e) => e.detail.status)).to.deep.equal([
      'connecting',
      'disconnecting',
      'disconnected',
    ]);
    expect(await serverCommand<number>('token-requests', { probe: 'mic-denied' })).to.equal(0);
    expect(spies.sockets).to.have.length(0);
    expect(part(el, 'error')!.textContent).to.contain('Allow it in your browser');
    expect(el.matches(':state(error)')).to.equal(true);
    await expectAllReleased(spies);
    // A second attempt fails the same way instead of hanging.
    await el.start();
    expect(events.filter((e) => e.type === 'va-error')).to.have.length(2);
  });
});
