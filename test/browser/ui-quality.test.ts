/**
 * What makes the widget fit any page: accessibility (axe) in every state, both layouts, light and
 * dark; text contrast; isolation from a hostile host page; and the microphone blocked by an
 * embedding frame, found out before the browser is asked.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { DEFAULT_STRINGS } from '../../src/element/strings.js';
import { ENGINE, expectAllReleased, frames, installSpies, loadBundle, nextEvent, type VoiceAgentElement, waitUntil } from '../support/harness.js';

const spies = installSpies();
await loadBundle();

afterEach(async () => {
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  await expectAllReleased(spies);
});

/** Each state a visitor can see, reached through real calls. */
const STATES: Record<string, (theme: string, layout: string) => Promise<VoiceAgentElement>> = {
  idle: (theme, layout) => fixture(html`<voice-agent theme=${theme} layout=${layout} open agent-name="Ada" token-endpoint="/api/voice-token"></voice-agent>`),
  'in a call': async (theme, layout) => {
    const el = await fixture<VoiceAgentElement>(
      html`<voice-agent theme=${theme} layout=${layout} agent-id="a1" agent-name="Ada" token-endpoint="/api/voice-token"></voice-agent>`,
    );
    await el.start();
    await waitUntil(() => el.transcript.length > 0, 'the greeting shows');
    el.muted = true;
    await el.updateComplete;
    return el;
  },
  'with the device menu open': async (theme, layout) => {
    const el = await STATES['in a call']!(theme, layout);
    el.shadowRoot!.querySelector<HTMLElement>('[part~="device-button"]')!.click();
    await waitUntil(() => el.shadowRoot!.activeElement?.getAttribute('part') === 'device-option', 'the device menu opens');
    return el;
  },
  chat: async (theme, layout) => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent theme=${theme} layout=${layout} mode="chat" agent-id="a1" token-endpoint="/api/voice-token"></voice-agent>`);
    await el.start();
    const reply = nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.role === 'assistant' && e.detail.final);
    el.sendText('Hello there');
    await reply;
    await el.updateComplete;
    return el;
  },
  failed: async (theme, layout) => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent theme=${theme} layout=${layout} mode="chat" token-endpoint="/api/token/http-503"></voice-agent>`);
    await el.start();
    await el.updateComplete;
    return el;
  },
};

/** WCAG relative luminance of an `rgb()`/`rgba()` colour. */
function luminance(color: string): number {
  const [r, g, b] = color.match(/[\d.]+/g)!.slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
const opaque = (color: string) => !/rgba\(.*,\s*0\)$/.test(color) && color !== 'transparent';

/** The colour drawn behind `node`: the nearest opaque background up the composed tree. */
function backgroundOf(node: Element): string {
  for (let at: Element | null = node; at; ) {
    const background = getComputedStyle(at).backgroundColor;
    if (opaque(background)) return background;
    at = at.parentElement ?? ((at.getRootNode() as ShadowRoot).host as Element | undefined) ?? null;
  }
  return 'rgb(255, 255, 255)';
}

function contrast(node: Element): number {
  const [a, b] = [luminance(getComputedStyle(node).color), luminance(backgroundOf(node))].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}

for (const theme of ['light', 'dark']) {
  for (const layout of ['floating', 'inline']) {
    describe(`${layout}, ${theme}`, () => {
      for (const [state, show] of Object.entries(STATES)) {
        it(`is accessible ${state}, and every text reads at 4.5:1 or better`, async () => {
          const el = await show(theme, layout);
          if (layout === 'floating' && !el.open) el.show();
          await el.updateComplete;
          await expect(el).to.be.accessible();
          // Whole: a panel with content, nothing wider than it, nothing off the screen.
          const panel = el.shadowRoot!.querySelector<HTMLElement>('[part~="panel"]')!;
          const frame = panel.getBoundingClientRect();
          expect(frame.width > 200 && frame.height > 100, 'the panel has content').to.equal(true);
          expect(panel.scrollWidth, 'no horizontal overflow').to.be.at.most(panel.clientWidth);
          for (const node of el.shadowRoot!.querySelectorAll<HTMLElement>('[part]')) {
            if (!node.checkVisibility()) continue;
            const box = node.getBoundingClientRect();
            const inside = box.left >= 0 && box.top >= 0 && box.right <= innerWidth && box.bottom <= innerHeight;
            expect(inside, `${node.getAttribute('part')} inside the viewport`).to.equal(true);
          }
          const texts = [...el.shadowRoot!.querySelectorAll<HTMLElement>('*')].filter(
            (node) => node.checkVisibility() && [...node.childNodes].some((c) => c.nodeType === Node.TEXT_NODE && c.textContent!.trim()),
          );
          expect(texts.length).to.be.above(2);
          for (const node of texts) {
            const name = node.getAttribute('part') ?? node.closest('[part]')?.getAttribute('part');
            expect(contrast(node), `${name}: "${node.textContent!.trim().slice(0, 30)}"`).to.be.at.least(4.5);
          }
        });
      }

      if (layout === 'floating') {
        it('is accessible closed, as a launcher', async () => {
          const el = await STATES.idle(theme, layout);
          el.hide();
          await el.updateComplete;
          await expect(el).to.be.accessible();
        });
      }
    });
  }
}

describe('isolation from the host page', () => {
  const PROPERTIES = [
    'font-family',
    'font-size',
    'font-style',
    'font-weight',
    'line-height',
    'color',
    'background-color',
    'letter-spacing',
    'word-spacing',
    'text-transform',
    'text-align',
    'text-indent',
    'white-space',
    'cursor',
    'padding-top',
    'padding-left',
    'margin-top',
    'margin-left',
    'border-top-width',
    'border-top-style',
    'border-radius',
    'display',
    'visibility',
  ];

  async function frame(search: string): Promise<HTMLIFrameElement> {
    const iframe = document.createElement('iframe');
    iframe.style.cssText = 'width: 420px; height: 700px; border: 0';
    const loaded = new Promise((resolve) => iframe.addEventListener('load', resolve, { once: true }));
    iframe.src = `/test/support/pages/widget.html${search}`;
    document.body.append(iframe);
    await loaded;
    await waitUntil(() => iframe.contentDocument!.querySelector('voice-agent')?.shadowRoot?.querySelector('[part~="panel"]'), 'the widget renders');
    return iframe;
  }

  function styles(iframe: HTMLIFrameElement): Record<string, Record<string, string>> {
    const root = iframe.contentDocument!.querySelector('voice-agent')!.shadowRoot!;
    const out: Record<string, Record<string, string>> = {};
    for (const node of root.querySelectorAll('[part]')) {
      const computed = iframe.contentWindow!.getComputedStyle(node);
      out[node.getAttribute('part')!] = Object.fromEntries(PROPERTIES.map((p) => [p, computed.getPropertyValue(p)]));
    }
    return out;
  }

  for (const query of ['?layout=inline', '?layout=floating&open', '?layout=inline&chat']) {
    it(`looks the same on a hostile page as on a blank one (${query.slice(1)})`, async () => {
      const [blank, hostile] = [await frame(query), await frame(`${query}&hostile`)];
      try {
        const hostileBody = hostile.contentWindow!.getComputedStyle(hostile.contentDocument!.body);
        expect(hostileBody.textTransform, 'the hostile rules apply to the page').to.equal('uppercase');
        const [clean, attacked] = [styles(blank), styles(hostile)];
        expect(Object.keys(attacked).length).to.be.above(8);
        expect(attacked).to.deep.equal(clean);
      } finally {
        blank.remove();
        hostile.remove();
      }
    });
  }

  it('renders the closed launcher without a network request', async () => {
    const before = performance.getEntriesByType('resource').length;
    const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-name="Ada"></voice-agent>`);
    await frames();
    expect(el.shadowRoot!.querySelector('[part~="launcher"]') === null).to.equal(false);
    expect(performance.getEntriesByType('resource').slice(before).map((e) => e.name)).to.deep.equal([]);
  });

  it('adds nothing to the host document', async () => {
    const before = document.head.innerHTML;
    const sheets = document.styleSheets.length;
    await fixture(html`<voice-agent open agent-name="Ada"></voice-agent>`);
    expect(document.head.innerHTML === before && document.styleSheets.length === sheets).to.equal(true);
  });
});

type Report = { type: string; detail: Record<string, unknown>; getUserMediaCalls: number; isSecureContext: boolean };

/** The widget on a page of its own in an iframe, started; what it reported to this page. */
async function embed(origin: string, allow: string | null): Promise<Report[]> {
  const iframe = document.createElement('iframe');
  if (allow) iframe.setAttribute('allow', allow);
  iframe.src = `${origin}/test/support/pages/widget.html?start`;
  const messages: Report[] = [];
  const onMessage = (event: MessageEvent) => {
    if (event.source === iframe.contentWindow) messages.push(event.data);
  };
  window.addEventListener('message', onMessage);
  document.body.append(iframe);
  try {
    await waitUntil(() => messages.some((m) => m.type === 'settled'), 'the embedded widget settles', { timeout: 15_000 });
  } finally {
    window.removeEventListener('message', onMessage);
    iframe.remove();
  }
  return messages;
}

describe('a cross-origin iframe without allow="microphone"', () => {
  // Another origin: the test page is served from 127.0.0.1.
  const other = `http://localhost:${location.port}`;

  it(`is named to the site owner and the visitor (${ENGINE})`, async () => {
    const messages = await embed(other, null);
    const error = messages.find((m) => m.type === 'va-error')!;
    const settled = messages.find((m) => m.type === 'settled')!;
    expect(error.detail.code).to.equal('mic-denied');
    if (ENGINE === 'chromium') {
      // Chromium exposes the frame's Permissions Policy: the block is found without asking.
      expect(error.detail.message).to.contain('allow="microphone"');
      expect(settled.detail.sentence).to.equal(DEFAULT_STRINGS.errorMicFrame);
      expect(error.getUserMediaCalls, 'the browser was never asked').to.equal(0);
    } else {
      // Firefox and WebKit expose no Permissions Policy API: the browser is asked and refuses, the
      // message names the likely cause for the site owner, and the visitor reads both possibilities.
      expect(error.getUserMediaCalls).to.equal(1);
      expect(error.detail.message).to.contain('allow="microphone"');
      expect(settled.detail.sentence).to.equal(DEFAULT_STRINGS.errorMicDeniedFramed);
    }
  });

  it('connects when the iframe allows the microphone', async () => {
    const messages = await embed(other, 'microphone');
    expect(messages.map((m) => m.type)).to.include('va-connect');
    expect(messages.some((m) => m.type === 'va-error')).to.equal(false);
  });
});

// An http page on a name that is not loopback is not a secure context. Chromium and Firefox map the
// name to 127.0.0.1 (test/support/engines.mjs); WebKitGTK's MiniBrowser has no such mapping, so
// WebKit cannot load an insecure page here.
if (ENGINE !== 'webkit') {
  describe('a page that is not a secure context', () => {
    it(`is told so before the browser is asked for the microphone (${ENGINE})`, async () => {
      const messages = await embed(`http://insecure.test:${location.port}`, 'microphone');
      const error = messages.find((m) => m.type === 'va-error')!;
      expect(error.isSecureContext).to.equal(false);
      expect([error.detail.code, error.getUserMediaCalls]).to.deep.equal(['mic-unavailable', 0]);
      expect(error.detail.message).to.contain('not a secure context');
      expect(messages.find((m) => m.type === 'settled')!.detail.sentence).to.equal(DEFAULT_STRINGS.errorInsecure);
    });
  });
}
