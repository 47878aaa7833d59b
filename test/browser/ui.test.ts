/**
 * The widget as people see and use it: layouts, every state with its words, the keyboard, the live
 * region, the transcript, the text field, strings and locales, right-to-left and themes. Real calls
 * against the local agent and the failing token endpoints; nothing of the session is faked.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { emulateMedia } from '@web/test-runner-commands';
import { DEFAULT_STRINGS } from '../../src/element/strings.js';
import { TranscriptScroller } from '../../src/element/ui/transcript.js';
import { ENGINE, expectAllReleased, frames, installSpies, loadBundle, nextEvent, part, parts, recordEvents, type VoiceAgentElement, waitUntil } from '../support/harness.js';

const spies = installSpies();
await loadBundle();

const QUIET = JSON.stringify({ greeting: '' });
const states = (el: HTMLElement) =>
  ['open', 'connecting', 'connected', 'listening', 'speaking', 'muted', 'error'].filter((s) => el.matches(`:state(${s})`));
const statusText = (el: VoiceAgentElement) => part(el, 'status')!.textContent!.trim();
const focused = (el: VoiceAgentElement) => el.shadowRoot!.activeElement?.getAttribute('part') ?? null;
const box = (node: Element) => node.getBoundingClientRect();

afterEach(async () => {
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  await expectAllReleased(spies);
});

describe('floating layout (the default)', () => {
  it('shows only a labelled launcher until opened; show() and hide() open and close the panel', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-name="Ada" token-endpoint="/api/voice-token"></voice-agent>`);
    const events = recordEvents(el);
    expect(el.layout).to.equal('floating');
    expect(part(el, 'panel')!.hidden).to.equal(true);
    expect(part(el, 'launcher')!.getAttribute('aria-label')).to.equal('Talk to Ada');
    expect(part(el, 'launcher')!.getAttribute('aria-expanded')).to.equal('false');
    expect(states(el)).to.deep.equal([]);
    el.show();
    await el.updateComplete;
    expect(part(el, 'panel')!.hidden).to.equal(false);
    expect(el.open && el.hasAttribute('open')).to.equal(true);
    expect(states(el)).to.deep.equal(['open']);
    expect(focused(el), 'focus moves into the panel').to.equal('panel base');
    expect(part(el, 'launcher')!.getAttribute('aria-expanded')).to.equal('true');
    expect(part(el, 'launcher')!.getAttribute('aria-label')).to.equal('Hide Ada');
    el.hide();
    await el.updateComplete;
    expect(part(el, 'panel')!.hidden).to.equal(true);
    expect(focused(el), 'focus returns to the launcher').to.equal('launcher');
    expect(events.map((e) => e.type)).to.deep.equal(['va-open', 'va-close']);
  });

  it('opens with the open attribute, and closes with the close button', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent open token-endpoint="/api/voice-token"></voice-agent>`);
    expect(part(el, 'panel')!.hidden).to.equal(false);
    const closed = nextEvent(el, 'va-close');
    part(el, 'close-button')!.click();
    await closed;
    expect(el.open).to.equal(false);
  });

  it('starts a voice call from the launcher, and shows a live, muted call on it while closed', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-id="a1" agent-name="Ada" token-endpoint="/api/voice-token" variables=${QUIET}></voice-agent>`);
    const connected = nextEvent(el, 'va-connect');
    part(el, 'launcher')!.click();
    expect(el.open).to.equal(true);
    await connected;
    el.hide();
    el.muted = true;
    await el.updateComplete;
    const launcher = part(el, 'launcher')!;
    expect(launcher.getAttribute('aria-label')).to.equal('Call with Ada in progress, microphone muted. Show it');
    expect(part(el, 'launcher-badge') === null, 'the muted mark on the launcher').to.equal(false);
    expect(states(el)).to.deep.equal(['connected', 'muted']);
  });

  it('in chat mode the launcher opens the panel without starting anything', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent mode="chat" token-endpoint="/api/voice-token"></voice-agent>`);
    part(el, 'launcher')!.click();
    await el.updateComplete;
    expect(el.open).to.equal(true);
    expect(el.status).to.equal('disconnected');
    expect(focused(el)).to.equal('panel base');
  });

  for (const [position, dir, corner] of [
    ['bottom-right', 'ltr', 'bottom right'],
    ['bottom-left', 'ltr', 'bottom left'],
    ['top-right', 'ltr', 'top right'],
    ['top-left', 'ltr', 'top left'],
    ['bottom-right', 'rtl', 'bottom left'],
  ] as const) {
    it(`puts the launcher ${corner} for position="${position}" (${dir}) and the panel beside it`, async () => {
      const el = await fixture<VoiceAgentElement>(html`<div dir=${dir}><voice-agent position=${position} open token-endpoint="/api/voice-token"></voice-agent></div>`).then(
        (wrap) => wrap.querySelector<VoiceAgentElement>('voice-agent')!,
      );
      const launcher = box(part(el, 'launcher')!);
      const panel = box(part(el, 'panel')!);
      const [vertical, side] = corner.split(' ');
      if (side === 'right') expect(innerWidth - launcher.right).to.be.within(10, 40);
      else expect(launcher.left).to.be.within(10, 40);
      if (vertical === 'bottom') {
        expect(innerHeight - launcher.bottom).to.be.within(10, 40);
        expect(panel.bottom).to.be.at.most(launcher.top);
      } else {
        expect(launcher.top).to.be.within(10, 40);
        expect(panel.top).to.be.at.least(launcher.bottom);
      }
      expect(panel.left >= 0 && panel.right <= innerWidth && panel.top >= 0 && panel.bottom <= innerHeight, 'panel on screen').to.equal(true);
    });
  }
});

describe('inline layout', () => {
  it('puts the panel in the page flow, open, without a launcher', async () => {
    const el = await fixture<VoiceAgentElement>(html`<div style="width: 400px"><voice-agent layout="inline" token-endpoint="/api/voice-token"></voice-agent></div>`).then(
      (wrap) => wrap.querySelector<VoiceAgentElement>('voice-agent')!,
    );
    expect(part(el, 'launcher') === null && part(el, 'close-button') === null).to.equal(true);
    expect(box(part(el, 'panel')!).width).to.be.closeTo(400, 1);
    expect(states(el)).to.deep.equal(['open']);
    expect(part(el, 'panel')!.getAttribute('role')).to.equal('region');
  });
});

describe('header', () => {
  it('shows the agent name and a slotted avatar; the launcher icon can be replaced', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" agent-name="Ada Lovelace">
      <img slot="avatar" alt="" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" />
    </voice-agent>`);
    expect(part(el, 'name')!.textContent).to.equal('Ada Lovelace');
    const slot = el.shadowRoot!.querySelector<HTMLSlotElement>('slot[name="avatar"]')!;
    expect(slot.assignedElements().map((n) => n.tagName)).to.deep.equal(['IMG']);
    expect(part(el, 'panel')!.getAttribute('aria-label')).to.equal('Ada Lovelace');
    const plain = await fixture<VoiceAgentElement>(html`<voice-agent></voice-agent>`);
    expect(part(plain, 'name')!.textContent).to.equal('Voice assistant');
    expect(plain.hasAttribute('title'), 'no native tooltip over the whole widget').to.equal(false);
  });
});

describe('states and their words', () => {
  it('asks for the microphone with a hint, then connects, listens, mutes, ends with the duration', async () => {
    let grant!: () => void;
    const el = await fixture<VoiceAgentElement>(html`<voice-agent
      layout="inline"
      agent-id="a1"
      token-endpoint="/api/voice-token"
      variables=${QUIET}
      .sessionOptions=${{
        audio: {
          getUserMedia: (constraints: MediaStreamConstraints) =>
            new Promise<MediaStream>((resolve) => (grant = () => resolve(navigator.mediaDevices.getUserMedia(constraints)))),
        },
      }}
    ></voice-agent>`);
    const said: string[] = [];
    new MutationObserver(() => said.push(statusText(el))).observe(part(el, 'status')!, { childList: true, subtree: true, characterData: true });
    expect(statusText(el)).to.equal('Ready to talk');
    void el.start();
    await el.updateComplete;
    expect(statusText(el)).to.equal('Waiting for the microphone…');
    expect(part(el, 'hint')!.textContent).to.equal(DEFAULT_STRINGS.statusMicrophoneHint);
    expect(states(el)).to.deep.equal(['open', 'connecting']);
    const connected = nextEvent(el, 'va-connect');
    grant();
    await connected;
    await el.updateComplete;
    expect(statusText(el)).to.equal('Listening');
    expect(states(el)).to.deep.equal(['open', 'connected', 'listening']);
    expect(part(el, 'hint') === null).to.equal(true);
    part(el, 'mute-button')!.click();
    await el.updateComplete;
    expect(el.muted).to.equal(true);
    expect(part(el, 'mute-button')!.getAttribute('aria-pressed')).to.equal('true');
    expect(statusText(el)).to.equal('Microphone muted');
    expect(states(el)).to.deep.equal(['open', 'connected', 'muted']);
    await el.stop();
    await el.updateComplete;
    expect(statusText(el)).to.match(/^Call ended · 0:0\d$/);
    expect(said).to.include.members(['Connecting…', 'Listening', 'Microphone muted', 'Ending…']);
  });

  it('shows the agent speaking, and the visualiser follows the agent', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" agent-name="Ada" agent-id="a1" token-endpoint="/api/voice-token"></voice-agent>`);
    await el.start();
    await waitUntil(() => el.speaking, 'the greeting starts');
    await el.updateComplete;
    expect(statusText(el)).to.equal('Ada is speaking');
    expect(states(el)).to.include('speaking');
    expect(part(el, 'visualizer')!.classList.contains('speaking')).to.equal(true);
  });

  for (const [endpoint, sentence] of [
    ['/api/token/http-401', DEFAULT_STRINGS.errorTokenRefused],
    ['/api/token/http-403', DEFAULT_STRINGS.errorTokenRefused],
    ['/api/token/http-429', DEFAULT_STRINGS.errorTokenBusy],
    ['/api/token/http-503', DEFAULT_STRINGS.errorTokenBusy],
    ['/api/token/http-500', DEFAULT_STRINGS.errorTokenFailed],
    ['/api/token/refused-socket', DEFAULT_STRINGS.errorSocket],
    ['/api/token/fault/drop', DEFAULT_STRINGS.errorConnectionLost],
  ] as const) {
    it(`says what to do when ${endpoint.split('/').at(-1)} fails the call, and retries with a fresh call`, async () => {
      // Without reconnects: the drop scenario drops every connection once the user speaks.
      const el = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" mode="chat" reconnect="off" token-endpoint=${endpoint}></voice-agent>`);
      await el.start();
      if (el.status === 'connected') el.sendText('hello?');
      await waitUntil(() => el.status === 'disconnected', 'the call fails');
      await el.updateComplete;
      expect(part(el, 'error')!.textContent).to.equal(sentence);
      expect(part(el, 'error')!.getAttribute('role')).to.equal('alert');
      expect(statusText(el)).to.equal(DEFAULT_STRINGS.statusFailed);
      expect(states(el)).to.deep.equal(['open', 'error']);
      const again = nextEvent(el, 'va-status-change', (e: CustomEvent) => e.detail.status === 'connecting');
      part(el, 'retry-button')!.click();
      await again;
      await waitUntil(() => el.status !== 'connecting', 'the retry settles');
    });
  }

  it('an agent that hangs up ends the call without an error', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" mode="chat" token-endpoint="/api/token/fault/ended"></voice-agent>`);
    await el.start();
    await waitUntil(() => el.status === 'disconnected');
    await el.updateComplete;
    expect(part(el, 'error') === null).to.equal(true);
    expect(statusText(el)).to.equal('Chat ended');
  });
});

describe('the live region', () => {
  it('is the status line alone: polite, never the transcript; errors are one assertive alert', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" mode="chat" agent-id="a1" token-endpoint="/api/voice-token"></voice-agent>`);
    await el.start();
    const reply = nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.role === 'assistant' && e.detail.final);
    el.sendText('a long question about lighthouses');
    await reply;
    await el.updateComplete;
    const live = [...el.shadowRoot!.querySelectorAll('[role="status"], [aria-live], [role="alert"], [role="log"]')];
    expect(live.map((n) => n.getAttribute('part'))).to.deep.equal(['status']);
    expect(statusText(el)).to.equal('Connected');
    expect(part(el, 'transcript')!.hasAttribute('aria-live')).to.equal(false);
  });
});

describe('visualiser', () => {
  it('draws frames only while a call is live and on screen', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-id="a1" token-endpoint="/api/voice-token" variables=${QUIET}></voice-agent>`);
    expect(el.animating, 'idle').to.equal(false);
    await el.start();
    await el.updateComplete;
    const reduced = matchMedia('(prefers-reduced-motion: reduce)').matches;
    expect(el.animating, 'listening, panel open').to.equal(!reduced);
    el.hide();
    await el.updateComplete;
    expect(el.animating, 'panel closed').to.equal(false);
    el.show();
    await el.updateComplete;
    expect(el.animating, 'panel open again').to.equal(!reduced);
    // The tab goes to the background (what the browser reports then).
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
    expect(el.animating, 'tab hidden').to.equal(false);
    delete (document as { visibilityState?: unknown }).visibilityState;
    document.dispatchEvent(new Event('visibilitychange'));
    expect(el.animating, 'tab visible again').to.equal(!reduced);
    await el.stop();
    await el.updateComplete;
    expect(el.animating, 'ended').to.equal(false);
  });
});

// Media features are emulated through the browser's automation protocol: Chromium's CDP can;
// puppeteer's WebDriver BiDi for Firefox and WebKitWebDriver (classic) cannot, so there the test
// above runs with the machine's own preference only.
if (ENGINE === 'chromium') {
  describe(`visualiser under prefers-reduced-motion (${ENGINE})`, () => {
    afterEach(() => emulateMedia({ reducedMotion: 'no-preference' }));

    it('stands still: no frames, a calm steady shape', async () => {
      await emulateMedia({ reducedMotion: 'reduce' });
      expect(matchMedia('(prefers-reduced-motion: reduce)').matches).to.equal(true);
      const el = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" agent-id="a1" token-endpoint="/api/voice-token" variables=${QUIET}></voice-agent>`);
      await el.start();
      await el.updateComplete;
      expect(el.animating).to.equal(false);
      const bar = el.shadowRoot!.querySelector('.bar')!;
      // A steady middle shape: 0.12 + 0.5 × the first bar's gain of 0.45.
      expect(getComputedStyle(bar).transform).to.equal('matrix(1, 0, 0, 0.345, 0, 0)');
      const height = bar.getBoundingClientRect().height;
      await frames();
      expect(bar.getBoundingClientRect().height).to.equal(height);
    });
  });
}

describe('transcript', () => {
  async function chatWith(messages: number, height = '7rem') {
    const el = await fixture<VoiceAgentElement>(
      html`<voice-agent layout="inline" mode="chat" agent-id="a1" token-endpoint="/api/voice-token" style="--va-transcript-max-height: ${height}"></voice-agent>`,
    );
    await el.start();
    for (let i = 0; i < messages; i++) {
      const reply = nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.role === 'assistant' && e.detail.final);
      el.sendText(`message number ${i + 1}`);
      await reply;
    }
    await el.updateComplete;
    return el;
  }

  it('has one bubble per turn per role, selectable, the turn in progress marked as such', async () => {
    const el = await chatWith(1, '20rem');
    expect(parts(el, 'message').map((m) => m.getAttribute('part'))).to.deep.equal(['message message-user', 'message message-assistant']);
    expect(getComputedStyle(part(el, 'message')!).userSelect).not.to.equal('none');
    const live = nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.role === 'assistant' && !e.detail.final);
    el.sendText('and another');
    await live;
    await el.updateComplete;
    expect(parts(el, 'message-assistant').at(-1)!.classList.contains('live')).to.equal(true);
  });

  it('follows the latest turn, unless the reader scrolled up: then it offers a jump to the latest', async () => {
    const el = await chatWith(3);
    const list = part(el, 'transcript')!;
    expect(list.scrollHeight).to.be.above(list.clientHeight);
    // It follows once a frame, before the frame is drawn.
    await waitUntil(() => Math.abs(list.scrollTop + list.clientHeight - list.scrollHeight) <= 2, 'scrolled to the latest turn');
    expect(part(el, 'jump-button') === null).to.equal(true);
    list.scrollTop = 0;
    list.dispatchEvent(new Event('scroll'));
    const reply = nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.role === 'assistant' && e.detail.final);
    el.sendText('one more');
    await reply;
    await el.updateComplete;
    await frames();
    await el.updateComplete;
    expect(list.scrollTop, 'stays where the reader is').to.equal(0);
    const jump = part(el, 'jump-button')!;
    expect(jump.textContent!.trim()).to.equal('Jump to latest');
    jump.click();
    await el.updateComplete;
    expect(list.scrollTop + list.clientHeight).to.be.closeTo(list.scrollHeight, 2);
    expect(part(el, 'jump-button') === null).to.equal(true);
  });

  it('keeps following when the list grows between its own scroll and the scroll event after it', async () => {
    const root = document.createElement('div');
    document.body.append(root);
    root.innerHTML = `<ol class="transcript" style="max-height: 100px; overflow-y: auto; margin: 0">${'<li style="height: 40px">turn</li>'.repeat(10)}</ol>`;
    const list = root.querySelector('ol')!;
    const host = { addController() {}, removeController() {}, requestUpdate() {}, updateComplete: Promise.resolve(true), renderRoot: root };
    const scroller = new TranscriptScroller(host);
    list.addEventListener('scroll', scroller.onScroll);
    try {
      const ownScroll = nextEvent(list, 'scroll');
      scroller.hostUpdated(); // it scrolls to the bottom in the next frame; the list grows just after, in that frame
      requestAnimationFrame(() => list.insertAdjacentHTML('beforeend', '<li style="height: 80px">more</li>'));
      await ownScroll; // the event comes a frame later, when the list is already 80 px taller
      expect(list.scrollHeight - list.scrollTop - list.clientHeight, 'the growth, below the view').to.be.closeTo(80, 1);
      scroller.hostUpdated();
      await frames(1);
      expect(list.scrollHeight - list.scrollTop - list.clientHeight, 'followed to the bottom').to.be.closeTo(0, 1);
      expect(scroller.unseen).to.equal(false);
    } finally {
      root.remove();
    }
  });

  it('can be hidden for voice-only widgets, or shown from the start', async () => {
    const never = await chatWith(1, '20rem');
    never.showTranscript = 'never';
    await never.updateComplete;
    expect(part(never, 'transcript') === null).to.equal(true);
    expect(never.transcript.length).to.equal(2);
    const always = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" show-transcript="always"></voice-agent>`);
    expect(part(always, 'transcript') === null).to.equal(false);
  });
});

describe('text field', () => {
  async function type(field: HTMLTextAreaElement, text: string) {
    field.value = text;
    field.dispatchEvent(new Event('input', { bubbles: true }));
  }
  const press = (field: HTMLElement, init: KeyboardEventInit) =>
    field.dispatchEvent(new KeyboardEvent('keydown', { bubbles: true, cancelable: true, ...init }));

  it('sends on Enter, not on Shift+Enter, and never sends empty text', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" mode="chat" agent-id="a1" token-endpoint="/api/voice-token"></voice-agent>`);
    await el.start();
    await el.updateComplete;
    const field = part(el, 'text-input') as HTMLTextAreaElement;
    expect((part(el, 'send-button') as HTMLButtonElement).disabled, 'nothing to send').to.equal(true);
    await type(field, '   ');
    await el.updateComplete;
    expect((part(el, 'send-button') as HTMLButtonElement).disabled, 'only spaces').to.equal(true);
    press(field, { key: 'Enter' });
    await type(field, 'first line');
    press(field, { key: 'Enter', shiftKey: true });
    await el.updateComplete;
    expect(el.transcript).to.deep.equal([]);
    const sent = nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.role === 'user');
    press(field, { key: 'Enter' });
    expect((await sent).detail.text).to.equal('first line');
    await el.updateComplete;
    expect(field.value).to.equal('');
  });

  it('is there during a voice call and keeps the text when sending fails', async () => {
    const voice = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" agent-id="a1" token-endpoint="/api/voice-token" variables=${QUIET}></voice-agent>`);
    expect(part(voice, 'text-input') === null, 'no field before a voice call').to.equal(true);
    await voice.start();
    await voice.updateComplete;
    expect(part(voice, 'text-input') === null, 'a field during the call').to.equal(false);
    const chat = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" mode="chat" token-endpoint="/api/token/http-500"></voice-agent>`);
    const field = part(chat, 'text-input') as HTMLTextAreaElement;
    await type(field, 'keep me');
    await chat.updateComplete;
    part(chat, 'send-button')!.click();
    await waitUntil(() => part(chat, 'send-note') !== null, 'the failure is told');
    expect(field.value).to.equal('keep me');
    expect(field.getAttribute('aria-describedby')).to.equal('send-note');
  });
});

describe('strings and locales', () => {
  it('merges the strings property over English; reading it returns the merged table', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline"></voice-agent>`);
    el.strings = { statusIdle: 'Prêt', notAKey: 'ignored', callStart: 42 } as never;
    await el.updateComplete;
    expect(statusText(el)).to.equal('Prêt');
    expect(el.strings.callStart).to.equal('Start call');
    expect(Object.keys(el.strings)).to.deep.equal(Object.keys(DEFAULT_STRINGS));
    expect('notAKey' in el.strings).to.equal(false);
  });

  it('reads a JSON strings attribute, and ignores one that is not JSON', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" strings='{"callStart": "Anrufen"}'></voice-agent>`);
    expect(part(el, 'call-button')!.textContent!.trim()).to.equal('Anrufen');
    el.setAttribute('strings', '{oops');
    await el.updateComplete;
    expect(part(el, 'call-button')!.textContent!.trim()).to.equal('Start call');
  });

  for (const lang of ['es', 'fr', 'de', 'hi', 'ar']) {
    it(`ships a complete ${lang} locale as its own module`, async () => {
      const { default: locale } = (await import(/* @vite-ignore */ `/dist/locales/${lang}.js`)) as { default: Record<string, string> };
      expect(Object.keys(locale).sort()).to.deep.equal(Object.keys(DEFAULT_STRINGS).sort());
      const el = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline"></voice-agent>`);
      el.strings = locale;
      await el.updateComplete;
      expect(statusText(el)).to.equal(locale.statusIdle);
      expect(part(el, 'call-button')!.textContent!.trim()).to.equal(locale.callStart);
    });
  }

  it('keeps the locales out of the default bundle', async () => {
    const bundle = await (await fetch('/dist/cdn/voice-agent.js')).text();
    expect(bundle.includes('Listo para hablar') || bundle.includes('जाने')).to.equal(false);
  });

  it('lays the panel out mirrored right to left', async () => {
    const arabic = '/dist/locales/ar.js';
    const { default: ar } = (await import(/* @vite-ignore */ arabic)) as { default: Record<string, string> };
    const el = await fixture<VoiceAgentElement>(html`<div dir="rtl" style="width: 400px"><voice-agent layout="inline" .strings=${ar}></voice-agent></div>`).then(
      (wrap) => wrap.querySelector<VoiceAgentElement>('voice-agent')!,
    );
    expect(box(part(el, 'avatar')!).left, 'the avatar on the right').to.be.above(box(part(el, 'name')!).left);
    expect(statusText(el)).to.equal(ar.statusIdle);
  });
});

describe('themes', () => {
  const background = (el: VoiceAgentElement) => getComputedStyle(part(el, 'panel')!).backgroundColor;
  const LIGHT = 'rgb(255, 255, 255)';
  const DARK = 'rgb(17, 24, 39)';

  it('is light or dark by the theme attribute, and follows the user by default', async () => {
    const auto = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline"></voice-agent>`);
    const prefersDark = matchMedia('(prefers-color-scheme: dark)').matches;
    expect(background(auto)).to.equal(prefersDark ? DARK : LIGHT);
    auto.theme = 'dark';
    await auto.updateComplete;
    expect(background(auto)).to.equal(DARK);
    auto.theme = 'light';
    await auto.updateComplete;
    expect(background(auto)).to.equal(LIGHT);
  });

  it('takes the page font only when asked (--va-font: inherit)', async () => {
    const wrap = await fixture<HTMLElement>(html`<div style="font: italic 21px serif; color: rgb(200, 0, 0); letter-spacing: 3px">
      <voice-agent layout="inline"></voice-agent><voice-agent layout="inline" style="--va-font: inherit"></voice-agent>
    </div>`);
    const [own, inherits] = [...wrap.querySelectorAll<VoiceAgentElement>('voice-agent')];
    const name = (el: VoiceAgentElement) => getComputedStyle(part(el, 'name')!);
    expect(name(own).fontFamily).to.contain('system-ui');
    expect(name(own).fontStyle).to.equal('normal');
    expect(name(own).letterSpacing).to.equal('normal');
    expect(name(own).color).not.to.equal('rgb(200, 0, 0)');
    expect(name(inherits).fontStyle).to.equal('italic');
    expect(name(inherits).fontFamily).to.equal('serif');
  });
});
