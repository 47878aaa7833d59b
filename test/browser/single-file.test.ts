/**
 * The bundle served alone (no worklets/ folder beside it, as when a site uploads one file): the
 * worklets load from the sources inlined in the bundle, and a voice call works.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { agentSession, expectAllReleased, installSpies, loadBundle, nextEvent, serverCommand, type VoiceAgentElement, waitUntil } from '../support/harness.js';

const spies = installSpies();
await loadBundle('/single/voice-agent.js');

describe('the bundle served as a single file', () => {
  it('falls back to its inlined worklets and completes a voice call', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-id="a1" token-endpoint="/api/voice-token"></voice-agent>`);
    const connected = nextEvent<CustomEvent>(el, 'va-connect');
    await el.start();
    const { sessionId } = (await connected).detail;
    // The default greeting plays through the inline playback worklet…
    await waitUntil(() => el.outputLevel > 0.02, 'the greeting is audible', { timeout: 5000 });
    // …and the inline capture worklet streams 20 ms frames.
    await waitUntil(async () => ((await agentSession(sessionId))?.appendFrames ?? 0) > 10, 'frames reach the agent', { timeout: 5000 });
    expect(Object.keys((await agentSession(sessionId))!.frameSamples)).to.deep.equal(['480']);
    const requests = await serverCommand<{ path: string; status: number }[]>('single-requests');
    expect(requests).to.deep.include({ path: '/single/worklets/capture-processor.js', status: 404 });
    expect(requests).to.deep.include({ path: '/single/worklets/playback-processor.js', status: 404 });
    await el.stop();
    await expectAllReleased(spies);
  });
});
