/**
 * Under a strict Content-Security-Policy (`default-src 'self'; script-src 'self'; connect-src 'self'
 * ws://127.0.0.1:*`, sent as a real response header, with violations reported to the test server):
 * the demo page, with the worklet files served from its origin, completes a voice call; the
 * standalone bundle served alone cannot fall back to inline worklets there, and says what to do.
 * Each page runs in a same-origin iframe, so the policy applies to its document and not to the test's.
 */
import { expect } from '@open-wc/testing';
import { ENGINE, agentSession, nextEvent, part, serverCommand, waitUntil, type VoiceAgentElement } from '../support/harness.js';

interface CspReport {
  page?: string;
  directive?: string;
  blocked?: string;
}

const frames: HTMLIFrameElement[] = [];

/** Opens `src` in an iframe and records the violations its document reports from then on. */
async function open(src: string): Promise<{ frame: HTMLIFrameElement; violations: string[] }> {
  const frame = document.createElement('iframe');
  frame.allow = 'microphone; autoplay';
  frame.style.cssText = 'width: 800px; height: 600px';
  const loaded = nextEvent(frame, 'load');
  frame.src = src;
  document.body.append(frame);
  frames.push(frame);
  await loaded;
  const violations: string[] = [];
  frame.contentDocument!.addEventListener('securitypolicyviolation', (event) => violations.push(`${event.effectiveDirective} ${event.blockedURI}`));
  await frame.contentWindow!.customElements.whenDefined('voice-agent');
  return { frame, violations };
}

function reportsFor(page: string): Promise<CspReport[]> {
  return serverCommand<CspReport[]>('csp-reports').then((reports) => reports.filter((r) => r.page?.includes(page)));
}

afterEach(async () => {
  for (const frame of frames.splice(0)) {
    for (const el of frame.contentDocument?.querySelectorAll<VoiceAgentElement>('voice-agent') ?? []) await el.stop();
    frame.remove();
  }
});

describe('strict Content-Security-Policy', () => {
  it('the demo completes a voice call with the worklets from its own origin, and nothing is refused', async () => {
    const { frame, violations } = await open('/csp/demo/index.html');
    const el = frame.contentDocument!.getElementById('inline') as VoiceAgentElement;
    // The policy really is in force in that document: inline code does not run.
    const probe = frame.contentDocument!.createElement('script');
    probe.textContent = 'window.inlineRan = true';
    frame.contentDocument!.body.append(probe);
    expect((frame.contentWindow as Window & { inlineRan?: boolean }).inlineRan).to.equal(undefined);
    await waitUntil(() => violations.some((v) => v.startsWith('script-src')), 'the inline probe is reported');
    violations.length = 0;

    const connected = nextEvent<CustomEvent<{ sessionId: string }>>(el, 'va-connect');
    const greeting = nextEvent<CustomEvent<{ role: string; final: boolean }>>(el, 'va-transcript', (e) => e.detail.role === 'assistant' && e.detail.final);
    part(el, 'call-button')!.click();
    const { sessionId } = (await connected).detail;
    expect(el.status).to.equal('connected');
    await greeting;
    await waitUntil(async () => ((await agentSession(sessionId))?.appendFrames ?? 0) >= 10, 'the agent hears the microphone');
    await el.stop();
    expect(el.status).to.equal('disconnected');
    expect((await agentSession(sessionId))!.closeReason).to.equal('client_requested');
    expect(part(el, 'error'), 'no error shown').to.equal(null);
    expect(violations, 'nothing the widget did was refused').to.deep.equal([]);
    const reports = (await reportsFor('/csp/demo/index.html')).filter((r) => !r.directive?.startsWith('script-src') || r.blocked !== 'inline');
    expect(reports, 'no report other than the inline probe').to.deep.equal([]);
  });

  it('the standalone bundle served alone fails with audio-failed, naming the files to serve', async () => {
    const { frame, violations } = await open('/csp/single.html');
    const el = frame.contentDocument!.querySelector('voice-agent') as VoiceAgentElement;
    const failed = nextEvent<CustomEvent<{ code: string; message: string }>>(el, 'va-error');
    await el.start();
    const { code, message } = (await failed).detail;
    expect(code).to.equal('audio-failed');
    expect(message).to.contain('serve the worklets/ folder beside the script (a Content-Security-Policy that allows neither blob: nor data: needs the files)');
    expect(el.status).to.equal('disconnected');
    expect(part(el, 'error')!.textContent!.trim()).to.equal('This widget is not set up correctly. If you run this site, check its settings.');
    // Both inline routes were tried and refused by the policy. Firefox and WebKit tell the page (and
    // the report endpoint); Chromium refuses a worklet with a bare AbortError and tells neither (the
    // same file loads from blob: on a page without the policy: single-file.test.ts).
    const refused = async () => [...violations, ...(await reportsFor('/csp/single.html')).map((r) => `${r.directive} ${r.blocked}`)];
    if (ENGINE === 'chromium') {
      expect(await refused()).to.deep.equal([]);
    } else {
      await waitUntil(async () => {
        const all = await refused();
        return all.some((v) => v.includes('blob')) && all.some((v) => v.includes('data'));
      }, `blob: and data: are refused (${(await refused()).join(', ')})`);
    }
    const requests = await serverCommand<{ path: string; status: number }[]>('single-requests');
    expect(requests).to.deep.include({ path: '/single/worklets/capture-processor.js', status: 404 });
  });
});
