/**
 * The default voice-agent.js served with its chunks but without its worklets/ folder: the start fails with
 * `audio-failed`, whose message names the files to serve, and the user reads that the site is not
 * set up (not that their speaker is broken). Nothing stays open. With `worklet-base-url` pointing at
 * the files hosted elsewhere, the same bundle calls.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { expectAllReleased, installSpies, loadBundle, part, recordEvents, serverCommand, type VoiceAgentElement } from '../support/harness.js';

const spies = installSpies();
await loadBundle('/single/voice-agent.js');

describe('voice-agent.js served without its worklets', () => {
  it('fails the start with audio-failed, naming what to serve', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" agent-id="a1" token-endpoint="/api/voice-token"></voice-agent>`);
    const events = recordEvents(el);
    await el.start();
    await el.updateComplete;
    const errors = events.filter((e) => e.type === 'va-error').map((e) => e.detail as { code: string; message: string });
    expect(errors.map((e) => e.code)).to.deep.equal(['audio-failed']);
    expect(errors[0].message).to.contain(`${location.origin}/single/worklets/`);
    expect(errors[0].message).to.contain('serve the worklets/ folder beside voice-agent.js or point worklet-base-url at it, or use voice-agent.standalone.js');
    expect(el.status).to.equal('disconnected');
    expect(part(el, 'error')!.textContent!.trim()).to.equal('This widget is not set up correctly. If you run this site, check its settings.');
    const requests = await serverCommand<{ path: string; status: number }[]>('single-requests');
    expect(requests).to.deep.include({ path: '/single/worklets/capture-processor.js', status: 404 });
    await expectAllReleased(spies);
  });

  it('loads the worklets from worklet-base-url, for a site that hosts them elsewhere', async () => {
    const el = await fixture<VoiceAgentElement>(
      html`<voice-agent layout="inline" agent-id="local-echo" token-endpoint="/api/voice-token" worklet-base-url="/dist/worklets/"></voice-agent>`,
    );
    const events = recordEvents(el);
    const asked = async () => (await serverCommand<{ path: string }[]>('single-requests')).filter((r) => r.path.includes('worklets')).length;
    const before = await asked();
    await el.start();
    expect(el.status).to.equal('connected');
    expect(events.filter((e) => e.type === 'va-error')).to.deep.equal([]);
    await el.stop();
    expect(await asked(), 'nothing asked of the folder beside the bundle').to.equal(before);
    await expectAllReleased(spies);
  });
});
