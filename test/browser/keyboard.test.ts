/**
 * Real key presses, in a browser of their own (the `keyboard` group): keys go to the focused window,
 * and in Firefox the frames an earlier test file opened and removed can leave the tab unfocused.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { expectAllReleased, installSpies, loadBundle, part, type VoiceAgentElement, waitUntil } from '../support/harness.js';

const spies = installSpies();
await loadBundle();

const QUIET = JSON.stringify({ greeting: '' });
const focused = (el: VoiceAgentElement) => el.shadowRoot!.activeElement?.getAttribute('part') ?? null;

afterEach(async () => {
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  await expectAllReleased(spies);
});

describe('keyboard', () => {
  it('opens and starts a call with Enter on the launcher, closes on Escape and gives focus back to it', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-id="a1" token-endpoint="/api/voice-token" variables=${QUIET}></voice-agent>`);
    part(el, 'launcher')!.focus();
    await sendKeys({ press: 'Enter' }); // opens, and starts a call: one tap to talk
    await waitUntil(() => el.open, 'Enter opens the panel');
    await waitUntil(() => el.status === 'connected', 'the call connects');
    expect(focused(el), 'focus moved into the panel').to.equal('panel base');
    await sendKeys({ press: 'Escape' });
    await waitUntil(() => !el.open, 'Escape closes the panel');
    expect(focused(el)).to.equal('launcher');
    await el.stop();
  });

  it('reaches every control of a call in order, with a visible focus ring', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" agent-id="a1" token-endpoint="/api/voice-token"></voice-agent>`);
    await el.start();
    await waitUntil(() => el.transcript.length > 0, 'the greeting shows');
    await el.updateComplete;
    const reached: string[] = [];
    el.shadowRoot!.querySelector<HTMLElement>('[part~="transcript"]')!.focus();
    for (let i = 0; i < 5; i++) {
      reached.push(el.shadowRoot!.activeElement!.getAttribute('part')!);
      const ring = getComputedStyle(el.shadowRoot!.activeElement!);
      expect(ring.outlineStyle, `${reached.at(-1)} shows focus`).to.equal('solid');
      // Not past the last control: Tab would leave the page, and the window its focus (the next test needs it).
      if (i < 4) await sendKeys({ press: 'Tab' });
    }
    expect(reached).to.deep.equal(['transcript', 'text-input', 'mute-button', 'device-button', 'call-button']);
  });

  it('works the device menu: Enter opens it on the chosen device, arrows move, Enter picks, Escape and Tab close it', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" agent-id="a1" token-endpoint="/api/voice-token" variables=${QUIET}></voice-agent>`);
    await el.start();
    await el.updateComplete;
    const active = () => el.shadowRoot!.activeElement!;
    part(el, 'device-button')!.focus();
    await sendKeys({ press: 'Enter' });
    await waitUntil(() => focused(el) === 'device-option', 'Enter opens the menu, focus on the chosen device');
    expect([active().textContent!.trim(), active().getAttribute('aria-checked')]).to.deep.equal(['System default', 'true']);
    expect(getComputedStyle(active()).outlineStyle, 'the item shows focus').to.equal('solid');
    await sendKeys({ press: 'ArrowDown' });
    const next = active();
    expect(next.getAttribute('aria-checked')).to.equal('false');
    await sendKeys({ press: 'Enter' });
    await waitUntil(() => focused(el) === 'device-button', 'Enter picks the device and gives focus back to the button');
    expect(el.inputDeviceId).not.to.equal('');
    expect(part(el, 'device-menu')).to.equal(null);
    await sendKeys({ press: ' ' });
    await waitUntil(() => focused(el) === 'device-option', 'Space opens it again');
    expect(active().textContent).to.equal(next.textContent);
    expect(active().getAttribute('aria-checked')).to.equal('true');
    await sendKeys({ press: 'Escape' });
    await waitUntil(() => focused(el) === 'device-button', 'Escape closes it and gives focus back');
    expect(part(el, 'device-menu')).to.equal(null);
    await sendKeys({ press: 'Enter' });
    await waitUntil(() => focused(el) === 'device-option');
    await sendKeys({ press: 'Tab' });
    await waitUntil(() => part(el, 'device-menu') === null, 'Tab leaves the menu and closes it');
    expect(focused(el)).to.equal('mute-button');
  });
});
