/**
 * The fault matrix, end to end: each fault of the token endpoint, the agent socket and the audio,
 * made real (misbehaving token routes, the local agent's injected faults, a microphone track that
 * ends, worklets that are not there), ends in a defined state with its `va-error` code and the
 * sentence the widget shows; then a retry with the fault gone connects; then nothing is left open.
 *
 * Elsewhere, and not repeated here: a refused microphone and no microphone (mic-refused.test.ts, a
 * browser of its own), a context the browser suspends and resumes (audio-suspend.test.ts), a drop
 * mid-turn, tries that all fail, token reuse across tries and a server that stops reading
 * (e2e-reconnect.test.ts), a key in a setting or a token answer (secrets.test.ts).
 */
import { expect, fixture, html } from '@open-wc/testing';
import type { LocalAgentFault } from '../../src/local-agent/index.js';
import { expectAllReleased, installSpies, loadBundle, nextEvent, part, recordEvents, serverCommand, type VoiceAgentElement, waitUntil } from '../support/harness.js';

const spies = installSpies();
await loadBundle();

const HEALTHY_ENDPOINT = '/api/voice-token';
let agents = 0;
const newAgent = () => `faults-${++agents}-${Math.random().toString(36).slice(2, 8)}`;

interface Fault {
  /** What goes wrong. */
  name: string;
  mode?: 'webcall' | 'chat';
  /** The token endpoint to start with (default: the healthy one). */
  tokenEndpoint?: (agentId: string) => string;
  /** Faults the local agent puts into the first connections for this widget's agent. */
  agentFaults?: LocalAgentFault[];
  sessionOptions?: object;
  attributes?: Record<string, string>;
  /** Something to do once the call is connected, which ends it. */
  during?: (el: VoiceAgentElement) => void;
  /** The `va-error` expected (code, and a part of its message); none for a clean end. */
  error?: [string, RegExp];
  /** A part of the sentence the widget shows. */
  shown: string;
  /** The `va-disconnect` reason, for a call that connected first. */
  disconnect?: string;
}

const FAULTS: Fault[] = [
  // The token endpoint.
  { name: 'the token endpoint answers 401', tokenEndpoint: () => '/api/token/http-401', error: ['token-failed', /HTTP 401/], shown: 'This site refused to start the call' },
  { name: 'the token endpoint answers 429', tokenEndpoint: () => '/api/token/http-429', error: ['token-failed', /HTTP 429/], shown: 'The service is busy right now' },
  { name: 'the token endpoint answers 500', tokenEndpoint: () => '/api/token/http-500', error: ['token-failed', /HTTP 500/], shown: 'could not be set up right now' },
  { name: 'the token endpoint answers HTML', tokenEndpoint: () => '/api/token/not-json', error: ['token-failed', /did not answer with JSON/], shown: 'could not be set up right now' },
  { name: 'the token endpoint answers without a token', tokenEndpoint: () => '/api/token/no-token', error: ['token-failed', /unusable/], shown: 'could not be set up right now' },
  { name: 'the token endpoint answers with a secret key', tokenEndpoint: () => '/api/token/secret-key', error: ['config-invalid', /secret API key \(sk_…\) was found in the token endpoint's answer/], shown: 'not set up correctly' },
  {
    name: 'the token endpoint hangs past the timeout',
    tokenEndpoint: () => '/api/token/slow',
    sessionOptions: { tokenTimeoutMs: 300 },
    error: ['token-failed', /did not answer within 300 ms/],
    shown: 'could not be set up right now',
  },
  {
    name: 'the token endpoint is on another origin without CORS',
    tokenEndpoint: () => `http://localhost:${location.port}/api/token/no-token`,
    error: ['token-failed', /another origin .* by CORS/],
    shown: 'could not be set up right now',
  },
  { name: 'the token endpoint redirects to another origin', tokenEndpoint: () => '/api/token/redirect-other-origin', error: ['token-failed', /redirect, which is not followed/], shown: 'could not be set up right now' },
  { name: 'the token endpoint redirects on its own origin', tokenEndpoint: () => '/api/token/redirect-same-origin', error: ['token-failed', /redirect, which is not followed/], shown: 'could not be set up right now' },
  // The agent socket.
  ...[401, 403, 503].map(
    (status): Fault => ({
      name: `the upgrade is refused with ${status}`,
      mode: 'webcall',
      agentFaults: [{ type: 'refuse', status }],
      error: ['socket-failed', /refused the connection \(close code 1006\)/],
      shown: 'could not be reached',
    }),
  ),
  {
    name: 'a setup error frame, then close 4000',
    agentFaults: [{ type: 'setup-error', code: '401', message: 'Invalid or expired token' }],
    error: ['server-error', /401: Invalid or expired token/],
    shown: 'ended the call because of an error',
  },
  { name: 'the agent never announces the session', agentFaults: [{ type: 'silent' }], sessionOptions: { sessionTimeoutMs: 300 }, error: ['session-timeout', /300 ms/], shown: 'did not answer' },
  ...['ended', 'client_requested', 'websocket_closed', 'max_duration_reached'].map(
    (reason): Fault => ({
      name: `the agent ends the call (session.closed, ${reason})`,
      agentFaults: [{ type: 'end', reason, afterMs: 50 }],
      shown: 'Chat ended',
      disconnect: reason,
    }),
  ),
  {
    name: 'a token used before (the agent refuses it)',
    tokenEndpoint: (agentId) => `/api/token/reuse?probe=${agentId}&agent=${agentId}`,
    // The first use of the token is the call before this one (see the test).
    error: ['socket-failed', /close code 1006/],
    shown: 'could not be reached',
  },
  // Audio.
  {
    name: 'the microphone track ends during the call',
    mode: 'webcall',
    during: () => {
      const track = spies.streams.at(-1)!.getAudioTracks()[0]!;
      track.stop();
      track.dispatchEvent(new Event('ended'));
    },
    error: ['mic-unavailable', /stopped during the call/],
    shown: 'The microphone stopped during the call',
    disconnect: 'error',
  },
  {
    name: 'the worklets fail to load',
    mode: 'webcall',
    attributes: { 'worklet-base-url': '/nowhere/' },
    error: ['audio-failed', /worklet/i],
    shown: 'not set up correctly',
  },
];

afterEach(async () => {
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  await expectAllReleased(spies);
});

describe('the fault matrix end to end', () => {
  for (const fault of FAULTS) {
    it(`${fault.name}: a defined end, its code and sentence, a retry that works, nothing left open`, async () => {
      const agentId = newAgent();
      const mode = fault.mode ?? 'chat';
      if (fault.agentFaults) await serverCommand('inject-faults', { agentId, faults: fault.agentFaults });
      const endpoint = fault.tokenEndpoint?.(agentId) ?? HEALTHY_ENDPOINT;
      if (endpoint.startsWith('/api/token/reuse')) {
        // The endpoint's one token, used up by a call that ended.
        const first = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" mode="chat" token-endpoint=${endpoint}></voice-agent>`);
        await first.start();
        expect(first.status).to.equal('connected');
        await first.stop();
        first.remove();
      }
      const el = await fixture<VoiceAgentElement>(
        html`<voice-agent layout="inline" agent-id=${agentId} mode=${mode} token-endpoint=${endpoint} .sessionOptions=${fault.sessionOptions}></voice-agent>`,
      );
      for (const [name, value] of Object.entries(fault.attributes ?? {})) el.setAttribute(name, value);
      const events = recordEvents(el);
      const of = (type: string) => events.filter((e) => e.type === type).map((e) => e.detail);
      const ended = fault.during || fault.disconnect ? nextEvent<CustomEvent>(el, 'va-disconnect') : undefined;
      await el.start();
      if (fault.during) {
        expect(el.status, 'connected before the fault').to.equal('connected');
        fault.during(el);
      }
      if (ended) expect((await ended).detail).to.deep.equal({ reason: fault.disconnect });
      await waitUntil(() => el.status === 'disconnected', 'the call ends');
      const errors = of('va-error');
      if (fault.error) {
        const [code, message] = fault.error;
        expect(errors.map((e) => [e.code, e.fatal])).to.deep.equal([[code, true]]);
        expect(errors[0].message).to.match(message);
      } else {
        expect(errors).to.deep.equal([]);
      }
      expect(of('va-reconnecting'), 'nothing here is retried').to.deep.equal([]);
      await el.updateComplete;
      const sentence = fault.error ? part(el, 'error')!.textContent! : part(el, 'status')!.textContent!;
      expect(sentence).to.contain(fault.shown);
      await expectAllReleased(spies);

      // The fault gone: a retry (the widget's own button after a failure) connects.
      el.tokenEndpoint = HEALTHY_ENDPOINT;
      el.removeAttribute('worklet-base-url');
      el.sessionOptions = undefined;
      await el.updateComplete;
      if (fault.error) part(el, 'retry-button')!.click();
      else part(el, 'call-button')!.click();
      await waitUntil(() => el.status === 'connected', 'the retry connects', { timeout: 10_000 });
      await el.stop();
    });
  }
});
