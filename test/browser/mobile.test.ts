/**
 * A phone: Chromium's device emulation with a 390 × 844 touch viewport (its own group). The widget
 * fits the width, its controls are big enough to hit with a finger, and a tap starts and ends a call.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { ENGINE, expectAllReleased, installSpies, loadBundle, nextEvent, part, serverCommand, type VoiceAgentElement } from '../support/harness.js';

const spies = installSpies();
await loadBundle();
// What every mobile site declares: lay out at the device's width, not a 980 px desktop page.
document.head.append(Object.assign(document.createElement('meta'), { name: 'viewport', content: 'width=device-width, initial-scale=1' }));

/** Taps the centre of an element with a finger, as the touchscreen would. */
async function tap(target: Element): Promise<void> {
  const box = target.getBoundingClientRect();
  await serverCommand('tap', { x: box.left + box.width / 2, y: box.top + box.height / 2 });
}

afterEach(async () => {
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  await expectAllReleased(spies);
});

describe(`on a phone (${ENGINE} device emulation, 390 × 844, touch)`, () => {
  it('fits the screen without horizontal scrolling, with finger-sized controls', async () => {
    expect([innerWidth, innerHeight, matchMedia('(pointer: coarse)').matches]).to.deep.equal([390, 844, true]);
    const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-id="a1" token-endpoint="/api/voice-token"></voice-agent>`);
    const box = el.getBoundingClientRect();
    expect(box.left).to.be.at.least(0);
    expect(box.right).to.be.at.most(innerWidth);
    expect(document.documentElement.scrollWidth, 'no horizontal overflow').to.be.at.most(innerWidth);
    const button = part(el, 'call-button')!.getBoundingClientRect();
    expect(Math.min(button.width, button.height), 'call button touch target').to.be.at.least(44);
  });

  it('starts a voice call with a tap and ends it with another', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-id="a1" token-endpoint="/api/voice-token"></voice-agent>`);
    const connected = nextEvent<CustomEvent>(el, 'va-connect');
    await tap(part(el, 'call-button')!);
    await connected;
    expect(el.status).to.equal('connected');
    expect(spies.contexts.at(-1)!.state).to.equal('running');
    await el.updateComplete;
    const disconnected = nextEvent(el, 'va-disconnect');
    await tap(part(el, 'call-button')!);
    await disconnected;
    expect(el.status).to.equal('disconnected');
  });
});
