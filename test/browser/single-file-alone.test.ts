/**
 * voice-agent.js served with nothing beside it (no call engine chunk, no worklets): the widget still
 * renders, and a start fails with `config-invalid`, whose message names the files to serve; the user
 * reads that the site is not set up. The AudioContext made in the click is closed again.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { expectAllReleased, installSpies, loadBundle, part, recordEvents, serverCommand, type VoiceAgentElement } from '../support/harness.js';

const spies = installSpies();
await loadBundle('/alone/voice-agent.js');

describe('voice-agent.js served alone', () => {
  it('renders, and fails the start with config-invalid, naming the files to serve', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" agent-id="a1" token-endpoint="/api/voice-token"></voice-agent>`);
    expect(part(el, 'call-button')).to.not.equal(null);
    const events = recordEvents(el);
    part(el, 'call-button')!.click();
    expect(spies.contexts.length, 'the AudioContext is made in the click, before the engine loads').to.equal(1);
    expect(el.status, 'the widget shows the call starting at once').to.equal('connecting');
    await el.start();
    await el.updateComplete;
    const errors = events.filter((e) => e.type === 'va-error').map((e) => e.detail as { code: string; message: string });
    expect(errors.map((e) => e.code)).to.deep.equal(['config-invalid']);
    expect(errors[0].message).to.contain('serve voice-agent-engine.js and the other files built beside voice-agent.js with it, or use voice-agent.standalone.js');
    expect(el.status).to.equal('disconnected');
    expect(events.filter((e) => e.type === 'va-status-change'), 'no call started, so no status events').to.deep.equal([]);
    expect(part(el, 'error')!.textContent!.trim()).to.equal('This widget is not set up correctly. If you run this site, check its settings.');
    const requests = await serverCommand<{ path: string; status: number }[]>('single-requests');
    expect(requests).to.deep.include({ path: '/alone/voice-agent-engine.js', status: 404 });
    await expectAllReleased(spies);
  });
});
