/**
 * Runs in a browser where getUserMedia cannot succeed (its own group, test/support/engines.mjs).
 * Chromium and Firefox refuse the permission. WebKitWebDriver has no permission command and
 * MiniBrowser grants every request under automation, so WebKit runs with no capture device at all.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { ENGINE, expectAllReleased, installSpies, loadBundle, part, recordEvents, serverCommand, type VoiceAgentElement } from '../support/harness.js';

const spies = installSpies();
await loadBundle();

const expected =
  ENGINE === 'webkit'
    ? // WebKit rejects getUserMedia with OverconstrainedError when it has no audio input at all.
      { code: 'mic-unavailable', message: /^No microphone was found \(OverconstrainedError\)\.$/, sentence: 'No microphone was found' }
    : { code: 'mic-denied', message: /^Microphone access was denied\.$/, sentence: 'Allow it in your browser' };

describe(`a microphone that cannot be opened (${ENGINE})`, () => {
  it(`gives ${expected.code}, asks no token, opens no socket, and tells the user what to do`, async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent token-endpoint="/api/voice-token?probe=mic-refused"></voice-agent>`);
    const events = recordEvents(el);
    const sockets = spies.sockets.length;
    part(el, 'call-button')!.click();
    await el.start();
    await el.updateComplete;
    const errors = events.filter((e) => e.type === 'va-error').map((e) => e.detail);
    expect(errors.map((e) => [e.code, e.fatal])).to.deep.equal([[expected.code, true]]);
    expect(errors[0].message).to.match(expected.message);
    expect(events.filter((e) => e.type === 'va-status-change').map((e) => e.detail.status)).to.deep.equal([
      'connecting',
      'disconnecting',
      'disconnected',
    ]);
    expect(await serverCommand<number>('token-requests', { probe: 'mic-refused' })).to.equal(0);
    expect(spies.sockets.length).to.equal(sockets);
    expect(part(el, 'error')!.textContent).to.contain(expected.sentence);
    expect(el.matches(':state(error)')).to.equal(true);
    await expectAllReleased(spies);
  });

  it('fails the same way on a second attempt instead of hanging', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent token-endpoint="/api/voice-token?probe=mic-refused-again"></voice-agent>`);
    const events = recordEvents(el);
    await el.start();
    await el.start();
    expect(events.filter((e) => e.type === 'va-error').map((e) => e.detail.code)).to.deep.equal([expected.code, expected.code]);
    expect(el.status).to.equal('disconnected');
    await expectAllReleased(spies);
  });
});
