/**
 * The HTML recipes of docs/recipes/html, pasted into pages of another origin than the token endpoint
 * (the page on localhost, the endpoint on 127.0.0.1: CORS), as a site builder serves them: the ES
 * module tag, the classic script tag (for builders that strip type="module"), and a hosted widget page
 * in an iframe with and without allow="microphone". The pages are cross-origin to the test, so they
 * report through postMessage (test/support/pages/embed-report.js) and take `start`, `stop` and `shown` requests.
 */
import { expect } from '@open-wc/testing';
import { ENGINE, agentSession, waitUntil } from '../support/harness.js';

interface Report {
  from: string;
  type: string;
  status?: string;
  sessionId?: string;
  code?: string;
  message?: string;
  text?: string;
}

const OTHER_ORIGIN = `http://localhost:${location.port}`;
const reports: Report[] = [];
window.addEventListener('message', (event) => {
  if (event.data && typeof event.data === 'object' && 'from' in event.data) reports.push(event.data as Report);
});
const frames: HTMLIFrameElement[] = [];

/** Opens `url` in an iframe and waits for its widget to be defined. */
async function embed(url: string, allow = 'microphone; autoplay'): Promise<HTMLIFrameElement> {
  reports.length = 0;
  const frame = document.createElement('iframe');
  if (allow) frame.allow = allow;
  frame.style.cssText = 'width: 500px; height: 700px';
  frame.src = url;
  // The frame's own load: its scripts have run, so it passes messages on. A nested frame can be
  // ready before the page around it has loaded the script that forwards them (seen in WebKit).
  const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
  document.body.append(frame);
  frames.push(frame);
  await loaded;
  await waitUntil(() => reports.some((r) => r.type === 'ready'), `${url} defines <voice-agent>`);
  return frame;
}

function statuses(): string[] {
  return reports.filter((r) => r.type === 'va-status-change').map((r) => r.status!);
}

afterEach(async () => {
  for (const frame of frames.splice(0)) {
    frame.contentWindow?.postMessage('stop', '*');
    if (statuses().at(-1) === 'connected') await waitUntil(() => statuses().at(-1) === 'disconnected', 'the call ends');
    frame.remove();
  }
});

describe('HTML recipes pasted into a page of another origin', () => {
  for (const recipe of ['script-module', 'script-classic']) {
    it(`${recipe}: a call goes through the cross-origin token endpoint to the agent`, async () => {
      const frame = await embed(`${OTHER_ORIGIN}/embed/${recipe}.html`);
      expect(reports.find((r) => r.type === 'ready')!.from).to.equal(`${OTHER_ORIGIN}/embed/${recipe}.html`);
      frame.contentWindow!.postMessage('start', '*');
      await waitUntil(() => reports.some((r) => r.type === 'va-connect'), `the call connects (${JSON.stringify(reports)})`);
      const { sessionId } = reports.find((r) => r.type === 'va-connect')!;
      expect((await agentSession(sessionId!))!.agentId).to.equal('local-echo');
      await waitUntil(async () => ((await agentSession(sessionId!))?.appendFrames ?? 0) >= 10, 'the agent hears the microphone');
      frame.contentWindow!.postMessage('stop', '*');
      await waitUntil(() => statuses().at(-1) === 'disconnected', 'the call ends');
      expect(statuses()).to.deep.equal(['connecting', 'connected', 'disconnecting', 'disconnected']);
      expect(reports.filter((r) => r.type === 'va-error')).to.deep.equal([]);
    });
  }

  it('iframe-embed: the hosted widget page in a frame with allow="microphone" completes a call', async () => {
    const frame = await embed('/embed/iframe-embed.html', '');
    expect(reports.find((r) => r.type === 'ready')!.from, 'the widget runs in the nested, cross-origin frame').to.equal(`${OTHER_ORIGIN}/embed/script-classic.html`);
    frame.contentWindow!.postMessage('start', '*');
    await waitUntil(() => reports.some((r) => r.type === 'va-connect'), `the call connects (${JSON.stringify(reports)})`);
    const { sessionId } = reports.find((r) => r.type === 'va-connect')!;
    await waitUntil(async () => ((await agentSession(sessionId!))?.appendFrames ?? 0) >= 10, 'the agent hears the microphone');
  });

  it('iframe-embed without allow="microphone": the call does not start, and the widget says what to fix', async () => {
    const frame = await embed('/embed/iframe-embed.html?without-allow', '');
    frame.contentWindow!.postMessage('start', '*');
    await waitUntil(() => reports.some((r) => r.type === 'va-error'), `an error (${JSON.stringify(reports)})`);
    const error = reports.find((r) => r.type === 'va-error')!;
    expect(error.code).to.equal('mic-denied');
    // Chromium can read the frame's policy before asking; Firefox and WebKit only learn of the refusal.
    expect(error.message).to.contain(ENGINE === 'chromium' ? 'the embedding iframe needs allow="microphone"' : 'the iframe may need allow="microphone"');
    // Asked again until the element has rendered it.
    await waitUntil(() => {
      frame.contentWindow!.postMessage('shown', '*');
      return reports.some((r) => r.type === 'shown' && r.text);
    }, 'the widget shows a sentence');
    expect(reports.find((r) => r.type === 'shown' && r.text)!.text).to.equal(
      ENGINE === 'chromium'
        ? 'This page’s frame blocks the microphone. The site owner must add allow="microphone" to the iframe.'
        : 'Microphone access is blocked. Allow it in your browser’s site settings. If this page is embedded in another site, its owner may need to add allow="microphone" to the iframe.',
    );
    expect(reports.some((r) => r.type === 'va-connect')).to.equal(false);
    expect(statuses().at(-1)).to.equal('disconnected');
  });
});
