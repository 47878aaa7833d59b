/**
 * What the user hears drives what the widget shows, end to end against a server that talks like real
 * ones: the whole reply (captions and 2 s of audio) arrives in one burst, far ahead of the sound.
 * `speaking` follows the player's edges and each caption appears as its audio is heard.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { expectAllReleased, installSpies, loadBundle, nextEvent, part, type VoiceAgentElement, waitUntil } from '../support/harness.js';

const spies = installSpies();
await loadBundle();

afterEach(async () => {
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  await expectAllReleased(spies);
});

describe('speaking and captions follow the sound', () => {
  it('shows each word as its audio plays, and speaks until the audio ends, not when the server stops', async () => {
    const probe = `ahead-${Math.random().toString(36).slice(2)}`;
    const el = await fixture<VoiceAgentElement>(
      html`<voice-agent layout="inline" agent-id="a1" muted token-endpoint=${`/api/token/fault/ahead-of-sound?probe=${probe}`}></voice-agent>`,
    );
    // Times on the call's audio clock (its AudioContext), so the figures are what was heard: WebKit's
    // audio thread can render ahead of the wall clock, and its messages arrive in bursts.
    let context: AudioContext | undefined;
    const clock = () => (context ? context.currentTime * 1000 : -1);
    const seen: { text: string; at: number }[] = [];
    const changes: [number, boolean][] = [];
    let speakingAt = -1;
    let silentAt = -1;
    el.addEventListener('va-transcript', (event) => {
      const { role, text } = (event as CustomEvent<{ role: string; text: string }>).detail;
      if (role === 'assistant') seen.push({ text, at: clock() });
    });
    const poll = setInterval(() => {
      if (el.speaking !== (changes.at(-1)?.[1] ?? false)) changes.push([Math.round(clock()), el.speaking]);
      if (speakingAt < 0 && el.speaking) speakingAt = clock();
      if (speakingAt >= 0 && silentAt < 0 && !el.speaking) silentAt = clock();
    }, 5);
    try {
      const connected = nextEvent(el, 'va-connect');
      const starting = el.start();
      context = spies.contexts.at(-1);
      await starting;
      await connected;
      await waitUntil(() => silentAt >= 0, 'the reply plays to its end', { timeout: 8000 });
    } finally {
      clearInterval(poll);
    }
    const trace = `(speaking: ${JSON.stringify(changes)}, words: ${JSON.stringify(seen.map((s) => [s.text, Math.round(s.at)]))})`;
    // Everything arrived within a few ms; the sound takes 2 s, 500 ms per word. Each word shows once
    // the audio before it has been heard: the first at once, the fourth 1.5 s into the sound.
    expect(seen.map((s) => s.text)).to.deep.equal(['One', 'One two', 'One two three', 'One two three four', 'One two three four.']);
    expect(silentAt - speakingAt, `speaking lasts as long as the audio ${trace}`).to.be.within(1800, 2600);
    expect(seen[0].at - speakingAt, `the first word shows by the time the sound starts ${trace}`).to.be.below(300);
    for (const i of [1, 2, 3]) {
      expect(seen[i].at - speakingAt, `word ${i + 1} waits for the ${i * 500} ms of sound before it ${trace}`).to.be.above(i * 500 - 150);
    }
    expect(seen[3].at - speakingAt, `and shows while its own audio plays ${trace}`).to.be.below(2100);
    await el.updateComplete;
    expect(part(el, 'transcript')!.textContent).to.contain('One two three four.');
  });
});
