/**
 * The apps built with Vite from the packed package (test/support/packaged-apps.mjs): the recipes of
 * docs/recipes in React 19 (in StrictMode), Preact, Vue and Svelte, and an app with Lit components of
 * its own. Each page, in a same-origin iframe, completes a call against the local agent: the
 * framework's event bindings see the status, its object binding reaches the agent as variables, and
 * the worklets load from the files Vite emitted.
 */
import { expect } from '@open-wc/testing';
import { agentSession, nextEvent, part, serverCommand, waitUntil, type VoiceAgentElement } from '../support/harness.js';

const frames: HTMLIFrameElement[] = [];

async function openApp(page: string, tag = 'voice-agent'): Promise<{ frame: HTMLIFrameElement; el: VoiceAgentElement; win: Window & Record<string, unknown> }> {
  const frame = document.createElement('iframe');
  frame.allow = 'microphone; autoplay';
  frame.style.cssText = 'width: 600px; height: 600px';
  const loaded = nextEvent(frame, 'load');
  frame.src = `/apps/${page}.html`;
  document.body.append(frame);
  frames.push(frame);
  await loaded;
  const win = frame.contentWindow as Window & Record<string, unknown>;
  await win.customElements.whenDefined(tag);
  const find = (): VoiceAgentElement | null =>
    frame.contentDocument!.querySelector<VoiceAgentElement>(tag) ?? frame.contentDocument!.querySelector('app-shell')?.shadowRoot?.querySelector<VoiceAgentElement>(tag) ?? null;
  await waitUntil(find, `${page} renders <voice-agent>`);
  return { frame, el: find()!, win };
}

/** The status line the recipe renders from the element's `va-status-change` events. */
function statusLine(frame: HTMLIFrameElement): string | undefined {
  return frame.contentDocument!.querySelector<HTMLElement>('[data-status]')?.dataset.status;
}

afterEach(async () => {
  for (const frame of frames.splice(0)) {
    for (const el of frame.contentDocument?.querySelectorAll<VoiceAgentElement>('voice-agent, acme-voice') ?? []) await el.stop();
    frame.remove();
  }
});

describe('apps built with Vite from the packed package', () => {
  for (const [page, greeting] of [
    ['react', 'Hello from React!'],
    ['preact', 'Hello from Preact!'],
    ['vue', 'Hello from Vue!'],
    ['svelte', 'Hello from Svelte!'],
  ] as const) {
    it(`${page}: the recipe completes a call, its bindings carry the variables and the events`, async () => {
      const { frame, el } = await openApp(page);
      expect(statusLine(frame)).to.equal('disconnected');
      const connected = nextEvent<CustomEvent<{ sessionId: string }>>(el, 'va-connect');
      part(el, 'call-button')!.click();
      const { sessionId } = (await connected).detail;
      await waitUntil(() => statusLine(frame) === 'connected', `the ${page} component hears va-status-change`);
      const stats = (await agentSession(sessionId))!;
      expect(stats.variables, 'the object property reached the agent').to.deep.equal({ greeting });
      await waitUntil(async () => ((await agentSession(sessionId))?.appendFrames ?? 0) >= 10, 'the agent hears the microphone');
      await el.stop();
      await waitUntil(() => statusLine(frame) === 'disconnected', 'and sees the call end');
      const requests = await serverCommand<{ path: string; status: number }[]>('app-requests');
      for (const name of ['capture-processor', 'playback-processor']) {
        expect(requests.some((r) => r.path.startsWith(`/apps/assets/${name}-`) && r.status === 200), `${name} loaded from the emitted file`).to.equal(true);
      }
    });
  }

  it('webpack: the same package bundled by webpack 5 calls, with its emitted worklet files', async () => {
    const { el } = await openApp('webpack/index');
    const connected = nextEvent(el, 'va-connect');
    part(el, 'call-button')!.click();
    await connected;
    expect(el.status).to.equal('connected');
    const requests = await serverCommand<{ path: string; status: number }[]>('app-requests');
    for (const name of ['capture-processor', 'playback-processor']) {
      expect(requests.some((r) => r.path.startsWith(`/apps/webpack/assets/${name}-`) && r.status === 200), `${name} loaded`).to.equal(true);
    }
  });

  it('react: StrictMode mounts twice, yet one call opens one socket', async () => {
    const { frame, el } = await openApp('react');
    const sessions = () => serverCommand<number>('agent-session-count', { agentId: 'local-echo' });
    const before = await sessions();
    const connected = nextEvent<CustomEvent<{ sessionId: string }>>(el, 'va-connect');
    part(el, 'call-button')!.click();
    await connected;
    expect(await sessions(), 'one session for one call').to.equal(before + 1);
    expect(frame.contentDocument!.querySelectorAll('voice-agent').length).to.equal(1);
  });

  it('an app with Lit components of its own runs the widget on the same, single Lit', async () => {
    const { win, el } = await openApp('lit');
    expect((win.litHtmlVersions as string[]).length, 'one lit-html').to.equal(1);
    expect((win.litElementVersions as string[]).length, 'one lit-element').to.equal(1);
    const connected = nextEvent(el, 'va-connect');
    part(el, 'call-button')!.click();
    await connected;
    expect(el.status).to.equal('connected');
  });

  it('framer: the code component of demo/framer calls, with its property controls and accent', async () => {
    const { frame, el, win } = await openApp('framer');
    const controls = win.framerControls as Record<string, { type: string }>;
    expect(Object.keys(controls)).to.deep.equal(['agentId', 'tokenEndpoint', 'agentName', 'layout', 'theme', 'accent', 'showTranscript']);
    expect(controls.accent.type).to.equal('color');
    expect(frame.contentWindow!.getComputedStyle(el).getPropertyValue('--va-accent').trim()).to.equal('#0f766e');
    expect(part(el, 'name')!.textContent!.trim()).to.equal('Echo');
    const connected = nextEvent(el, 'va-connect');
    part(el, 'call-button')!.click();
    await connected;
    expect(el.status).to.equal('connected');
  });

  it('element: the side-effect-free entry under a tag name of the app\'s own calls, and registers nothing else', async () => {
    const { win, el } = await openApp('custom-tag', 'acme-voice');
    expect(win.customElements.get('voice-agent'), 'no <voice-agent> registered').to.equal(undefined);
    expect(el.localName).to.equal('acme-voice');
    const connected = nextEvent(el, 'va-connect');
    part(el, 'call-button')!.click();
    await connected;
    expect(el.status).to.equal('connected');
  });

  it('twice: the npm module and the CDN file on one page register once, and the widget calls', async () => {
    // The page appends its element after both imports: had either thrown, there would be none.
    const { win, el } = await openApp('twice');
    expect(win.document.querySelectorAll('voice-agent').length).to.equal(1);
    const connected = nextEvent(el, 'va-connect');
    part(el, 'call-button')!.click();
    await connected;
    expect(el.status).to.equal('connected');
  });
});
