/**
 * voice-agent.standalone.js served alone (no worklets/ folder beside it, as when a site uploads one
 * file): it loads the worklets it carries inside, and a voice call works.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { agentSession, expectAllReleased, installSpies, loadBundle, nextEvent, serverCommand, type VoiceAgentElement, waitUntil } from '../support/harness.js';

const spies = installSpies();
await loadBundle('/single/voice-agent.standalone.js');

afterEach(async () => {
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  await expectAllReleased(spies);
});

describe('a bundle served as a single file', () => {
  it('voice-agent.standalone.js falls back to the worklets inside it and completes a voice call', async () => {
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
  });
});
