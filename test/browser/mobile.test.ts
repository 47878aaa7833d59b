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
  it('shows a finger-sized launcher in the corner, inside the screen', async () => {
    expect([innerWidth, innerHeight, matchMedia('(pointer: coarse)').matches]).to.deep.equal([390, 844, true]);
    const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-id="a1" token-endpoint="/api/voice-token"></voice-agent>`);
    const launcher = part(el, 'launcher')!.getBoundingClientRect();
    expect(Math.min(launcher.width, launcher.height), 'launcher touch target').to.be.at.least(44);
    expect(launcher.right).to.be.within(innerWidth - 40, innerWidth);
    expect(launcher.bottom).to.be.within(innerHeight - 40, innerHeight);
    expect(document.documentElement.scrollWidth, 'no horizontal overflow').to.be.at.most(innerWidth);
  });

  it('a tap on the launcher opens a full-width sheet and starts a voice call; another tap ends it', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-id="a1" token-endpoint="/api/voice-token"></voice-agent>`);
    const connected = nextEvent<CustomEvent>(el, 'va-connect');
    await tap(part(el, 'launcher')!);
    await connected;
    expect(el.status).to.equal('connected');
    expect(spies.contexts.at(-1)!.state).to.equal('running');
    await el.updateComplete;
    const panel = part(el, 'panel')!.getBoundingClientRect();
    expect(panel.width / innerWidth, 'the sheet spans the screen').to.be.at.least(0.95);
    expect(panel.bottom).to.be.closeTo(innerHeight, 1);
    expect(panel.top).to.be.at.least(0);
    expect(document.documentElement.scrollWidth, 'no horizontal overflow').to.be.at.most(innerWidth);
    for (const name of ['call-button', 'mute-button', 'close-button']) {
      const box = part(el, name)!.getBoundingClientRect();
      expect(Math.min(box.width, box.height), `${name} touch target`).to.be.at.least(44);
      expect(box.right <= innerWidth && box.left >= 0, `${name} inside the screen`).to.equal(true);
    }
    const disconnected = nextEvent(el, 'va-disconnect');
    await tap(part(el, 'call-button')!);
    await disconnected;
    expect(el.status).to.equal('disconnected');
  });
});
