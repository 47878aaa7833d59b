/**
 * A call whose audio the browser suspends mid-call (a phone call on iOS, a tab in the background):
 * the widget says so, keeps the call, and resumes when the page is shown again or on a tap. Real
 * calls against the local agent; the suspension is the real AudioContext's own `suspend()`.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { expectAllReleased, installSpies, loadBundle, nextEvent, part, type VoiceAgentElement, waitUntil } from '../support/harness.js';

const spies = installSpies();
await loadBundle();

const QUIET = JSON.stringify({ greeting: '' });
const statusText = (el: VoiceAgentElement) => part(el, 'status')!.textContent!.trim();

afterEach(async () => {
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  await expectAllReleased(spies);
});

async function call(): Promise<{ el: VoiceAgentElement; context: AudioContext }> {
  const el = await fixture<VoiceAgentElement>(
    html`<voice-agent layout="inline" agent-id="a1" agent-name="Ada" token-endpoint="/api/voice-token" variables=${QUIET}></voice-agent>`,
  );
  const connected = nextEvent(el, 'va-connect');
  await el.start();
  await connected;
  const context = spies.contexts.at(-1)!;
  expect(context.state).to.equal('running');
  return { el, context };
}

describe('audio the browser suspends during a call', () => {
  it('says audio is paused with a resume button, keeps the call, and resumes on the button', async () => {
    const { el, context } = await call();
    const socket = spies.sockets.at(-1)!;
    await context.suspend();
    await waitUntil(() => el.matches(':state(paused)'), 'the widget shows the pause');
    await el.updateComplete;
    expect(statusText(el)).to.equal('Audio paused. Tap to resume.');
    expect(el.status, 'the call goes on').to.equal('connected');
    expect(socket.readyState).to.equal(WebSocket.OPEN);
    const button = part(el, 'resume-button')!;
    expect(button.textContent!.trim()).to.equal('Resume audio');
    button.click();
    await waitUntil(() => context.state === 'running' && !el.matches(':state(paused)'), 'the audio resumes');
    await el.updateComplete;
    expect(statusText(el)).to.equal('Listening');
    expect(part(el, 'resume-button')).to.equal(null);
  });

  it('resumes by itself when the page is shown again', async () => {
    const { el, context } = await call();
    await context.suspend();
    await waitUntil(() => el.matches(':state(paused)'), 'the widget shows the pause');
    document.dispatchEvent(new Event('visibilitychange')); // the page is visible: the tab came back
    await waitUntil(() => context.state === 'running' && !el.matches(':state(paused)'), 'the audio resumes');
    expect(el.status).to.equal('connected');
  });

  it('is not a pause once the call has ended', async () => {
    const { el, context } = await call();
    await el.stop();
    expect(context.state).to.equal('closed');
    expect(el.matches(':state(paused)')).to.equal(false);
  });
});
