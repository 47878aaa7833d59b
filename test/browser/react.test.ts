/**
 * `<voice-agent>` in a React 19 app, in React's development build under `<StrictMode>` (which runs
 * each effect, its cleanup and the effect again when a component mounts): the app starts a call from
 * an effect and stops it in the cleanup (test/support/react-app.mjs), against the real token handler
 * and local agent.
 */
import { expect } from '@open-wc/testing';
import { agentSession, expectAllReleased, installSpies, loadBundle, nextEvent, serverCommand, type VoiceAgentElement, waitUntil } from '../support/harness.js';

interface AppState {
  generation: number;
  props: Record<string, unknown>;
}
interface ReactApp {
  mountApp(container: Element, state: AppState): { render(state: AppState): void; unmount(): void };
  version: string;
}

const spies = installSpies();
await loadBundle();
const REACT_APP = '/test/.generated/react-app.js';
const { mountApp, version } = (await import(/* @vite-ignore */ REACT_APP)) as ReactApp;

const mounted: { unmount(): void; container: Element }[] = [];

function mount(state: AppState) {
  const container = document.createElement('div');
  document.body.append(container);
  const app = mountApp(container, state);
  const handle = {
    container,
    render: app.render,
    unmount() {
      app.unmount();
      container.remove();
      mounted.splice(mounted.indexOf(handle), 1);
    },
  };
  mounted.push(handle);
  return handle;
}

afterEach(async () => {
  for (const app of [...mounted]) app.unmount();
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  await expectAllReleased(spies);
});

/** Sessions of the local agent with this agent id. */
const sessionCount = (agentId: string) => serverCommand<number>('agent-session-count', { agentId });

describe('React 19 StrictMode', () => {
  it('runs on React 19, in its development build', () => {
    expect(version).to.match(/^19\./);
  });

  it('an effect that starts the call and a cleanup that stops it: one session per mounted element, none left after unmount', async () => {
    const connects: string[] = [];
    const errors: unknown[] = [];
    const props = {
      'agent-id': 'react-strict',
      'token-endpoint': '/api/voice-token?probe=react-strict',
      layout: 'inline',
      variables: { greeting: '' },
      'onva-connect': (event: CustomEvent<{ sessionId: string }>) => connects.push(event.detail.sessionId),
      'onva-error': (event: CustomEvent) => errors.push(event.detail),
    };
    const sockets = spies.sockets.length;
    const firstConnect = new Promise<void>((resolve) => document.addEventListener('va-connect', () => resolve(), { once: true }));
    const app = mount({ generation: 1, props });
    const first = app.container.querySelector<VoiceAgentElement>('voice-agent')!;
    await firstConnect;
    expect(first.status).to.equal('connected');
    expect(connects.length, 'one va-connect').to.equal(1);
    expect(await sessionCount('react-strict'), 'sessions on the agent').to.equal(1);
    expect(await serverCommand<number>('token-requests', { probe: 'react-strict' }), 'token requests').to.equal(1);
    expect(spies.sockets.length - sockets, 'sockets opened').to.equal(1);
    // StrictMode's first run of the effect let go of what it had opened (its microphone and AudioContext).
    await waitUntil(
      () =>
        spies.streams.filter((s) => s.getTracks().some((t) => t.readyState === 'live')).length === 1 &&
        spies.contexts.filter((c) => c.state !== 'closed').length === 1,
      'one live microphone and one open AudioContext',
    );

    // A new key: React unmounts the element (cleanup: stop) and mounts a new one (StrictMode again).
    const secondConnect = nextEvent<CustomEvent>(app.container, 'va-connect');
    app.render({ generation: 2, props });
    const second = app.container.querySelector<VoiceAgentElement>('voice-agent')!;
    expect(second === first, 'a new element').to.equal(false);
    expect(first.isConnected).to.equal(false);
    await secondConnect;
    expect(connects.length, 'one more va-connect').to.equal(2);
    expect(await sessionCount('react-strict'), 'sessions on the agent').to.equal(2);
    await waitUntil(async () => (await agentSession(connects[0]))!.closeReason !== undefined, 'the first session ends');
    const ended = (await Promise.all(connects.map(agentSession))).filter((s) => s!.closeReason !== undefined);
    expect(ended.map((s) => [s!.sessionId, s!.closeReason])).to.deep.equal([[connects[0], 'client_requested']]);
    expect(spies.sockets.length - sockets, 'sockets opened = sessions ended + 1').to.equal(ended.length + 1);
    expect(await serverCommand<number>('token-requests', { probe: 'react-strict' })).to.equal(2);
    expect(spies.sockets.filter((s) => s.readyState === WebSocket.OPEN).length, 'open sockets').to.equal(1);
    expect(errors).to.deep.equal([]);

    app.unmount();
    await expectAllReleased(spies);
    await waitUntil(async () => (await agentSession(connects[1]))!.closeReason !== undefined, 'the second session ends');
    expect((await agentSession(connects[1]))!.closeReason).to.equal('client_requested');
    expect(await sessionCount('react-strict'), 'no session opened after unmount').to.equal(2);
    expect(second.status).to.equal('disconnected');
  });

  it('mounted, unmounted and mounted again at once opens exactly one session', async () => {
    // A voice call: each start waits for the microphone before it asks for a token, so a start that is
    // stopped in the same task never reaches the token endpoint.
    const props = { 'agent-id': 'react-flicker', 'token-endpoint': '/api/voice-token?probe=react-flicker', layout: 'inline', variables: { greeting: '' } };
    const sockets = spies.sockets.length;
    mount({ generation: 1, props }).unmount();
    const connected = new Promise<Event>((resolve) => document.addEventListener('va-connect', resolve, { once: true }));
    const app = mount({ generation: 2, props });
    const { detail } = (await connected) as CustomEvent<{ sessionId: string }>;
    expect(app.container.querySelector<VoiceAgentElement>('voice-agent')!.status).to.equal('connected');
    expect(await sessionCount('react-flicker')).to.equal(1);
    expect(await serverCommand<number>('token-requests', { probe: 'react-flicker' })).to.equal(1);
    expect(spies.sockets.length - sockets).to.equal(1);
    expect((await agentSession(detail.sessionId))!.agentId).to.equal('react-flicker');
  });

  it('sets object props as properties, and listens for on + the exact event name (onva-…, not onVa-…)', async () => {
    const calls = { lower: 0, upperFirst: 0, camel: 0 };
    const connected = new Promise<Event>((resolve) => document.addEventListener('va-connect', resolve, { once: true }));
    const app = mount({
      generation: 1,
      props: {
        'agent-id': 'react-props',
        'token-endpoint': '/api/voice-token',
        layout: 'inline',
        variables: { from: 'react', n: 1 },
        'onva-status-change': () => calls.lower++,
        'onVa-status-change': () => calls.upperFirst++,
        onVaStatusChange: () => calls.camel++,
      },
    });
    const el = app.container.querySelector<VoiceAgentElement>('voice-agent')!;
    const { detail } = (await connected) as CustomEvent<{ sessionId: string }>;
    expect(el.getAttribute('agent-id')).to.equal('react-props');
    expect(el.hasAttribute('variables'), 'variables went in as a property').to.equal(false);
    expect(el.variables).to.deep.equal({ from: 'react', n: 1 });
    expect((await agentSession(detail.sessionId))!.variables).to.deep.equal({ from: 'react', n: 1 });
    // StrictMode's first run: connecting → disconnecting; the second: connecting → connected.
    expect(calls.lower, 'onva-status-change').to.be.at.least(2);
    expect(calls.upperFirst, 'onVa-status-change').to.equal(0);
    expect(calls.camel, 'onVaStatusChange').to.equal(0);
  });
});
