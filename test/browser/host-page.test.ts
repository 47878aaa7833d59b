/**
 * The host page's control over the element, against the real token handler and local agent:
 * `va-before-connect` (cancel, edit), an element made by a framework (properties set before or
 * after the element is defined), moves during a call, removal, and the quick start / stop / start
 * of a framework's effects. Every test ends with everything released.
 */
import { expect, fixture, html } from '@open-wc/testing';
import {
  agentSession,
  expectAllReleased,
  installSpies,
  loadBundle,
  nextEvent,
  part,
  recordEvents,
  serverCommand,
  type VoiceAgentElement,
  waitUntil,
} from '../support/harness.js';
import type { SessionStats } from '../../src/local-agent/call-types.js';

const spies = installSpies();
const BUNDLE = '/dist/cdn/voice-agent.js';
await loadBundle(BUNDLE);
const { VoiceAgentElement: ElementClass } = (await import(/* @vite-ignore */ BUNDLE)) as { VoiceAgentElement: typeof VoiceAgentElement };

/** Elements a test made outside `fixture()` (other tags, shadow roots), stopped and removed after it. */
const made: { el: VoiceAgentElement; holder?: Element }[] = [];
let definedTags = 0;

afterEach(async () => {
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  for (const { el, holder } of made.splice(0)) {
    await el.stop();
    (holder ?? el).remove();
  }
  await expectAllReleased(spies);
});

const QUIET = JSON.stringify({ greeting: '' });

/** What the local agent recorded about these sessions, in the same order. */
async function sessionsOf(sessionIds: string[]): Promise<SessionStats[]> {
  return Promise.all(sessionIds.map(async (id) => (await agentSession(id))!));
}

/** A voice call through the site's token endpoint, connected. */
async function connectedCall(agentId: string, probe: string) {
  const el = await fixture<VoiceAgentElement>(html`
    <voice-agent layout="inline" agent-id=${agentId} token-endpoint=${`/api/voice-token?probe=${probe}`} variables=${QUIET}></voice-agent>
  `);
  const connected = nextEvent<CustomEvent>(el, 'va-connect');
  void el.start();
  const { sessionId } = (await connected).detail as { sessionId: string };
  return { el, sessionId, socket: spies.sockets.at(-1)! };
}

/** Proves a call still works: typed text and the microphone's audio reach the agent on the same socket. */
async function expectCallGoesOn(el: VoiceAgentElement, sessionId: string, socket: WebSocket, text: string): Promise<void> {
  const frames = (await agentSession(sessionId))!.appendFrames;
  expect(el.sendText(text), 'sendText').to.equal(true);
  await waitUntil(async () => {
    const stats = (await agentSession(sessionId))!;
    return stats.textInputs.includes(text) && stats.appendFrames >= frames + 10;
  }, 'the agent receives the text and more microphone audio');
  expect(spies.sockets.at(-1) === socket, 'no other socket was opened').to.equal(true);
  expect(socket.readyState).to.equal(WebSocket.OPEN);
  expect(el.status).to.equal('connected');
  expect((await agentSession(sessionId))!.closeReason).to.equal(undefined);
}

describe('va-before-connect', () => {
  it('is cancelable: no microphone, token request or socket, the panel stays closed, and no error', async () => {
    const el = await fixture<VoiceAgentElement>(html`<voice-agent agent-id="veto" token-endpoint="/api/voice-token?probe=veto"></voice-agent>`);
    const events = recordEvents(el);
    el.addEventListener('va-before-connect', (event) => event.preventDefault());
    const counts = { gum: spies.getUserMediaCalls, sockets: spies.sockets.length, contexts: spies.contexts.length };
    let rejected = false;
    await el.start().catch(() => (rejected = true));
    await el.updateComplete;
    expect(rejected, 'start() rejected').to.equal(false);
    expect(events.map((e) => e.type)).to.deep.equal(['va-before-connect']);
    expect(events[0].cancelable && events[0].defaultPrevented).to.equal(true);
    expect({ gum: spies.getUserMediaCalls, sockets: spies.sockets.length, contexts: spies.contexts.length }).to.deep.equal(counts);
    expect(await serverCommand<number>('token-requests', { probe: 'veto' })).to.equal(0);
    expect(el.status).to.equal('disconnected');
    expect(el.open, 'the floating panel did not open').to.equal(false);
    expect(part(el, 'error') === null, 'no error shown').to.equal(true);
    expect(el.matches(':state(error)') || el.matches(':state(connecting)')).to.equal(false);
    expect(part(el, 'status')!.textContent).to.equal('Ready to talk');
  });

  it('cancelling a retry clears the earlier failure, and a start that is not cancelled connects', async () => {
    const el = await fixture<VoiceAgentElement>(html`
      <voice-agent layout="inline" mode="chat" agent-id="veto-retry" token-endpoint="/api/token/http-503?probe=veto-retry"></voice-agent>
    `);
    const failed = nextEvent<CustomEvent>(el, 'va-error');
    await el.start();
    expect((await failed).detail.code).to.equal('token-failed');
    await el.updateComplete;
    expect(part(el, 'error') !== null, 'the failure is shown').to.equal(true);

    const veto = (event: Event) => event.preventDefault();
    el.addEventListener('va-before-connect', veto);
    await el.start();
    await el.updateComplete;
    expect(part(el, 'error') === null, 'the failure is no longer shown').to.equal(true);
    expect(el.matches(':state(error)')).to.equal(false);
    expect(part(el, 'status')!.textContent).to.equal('Ready to chat');
    expect(await serverCommand<number>('token-requests', { probe: 'veto-retry' })).to.equal(1);

    el.removeEventListener('va-before-connect', veto);
    el.tokenEndpoint = '/api/voice-token?probe=veto-retry';
    await el.start();
    expect(el.status).to.equal('connected');
    expect(await serverCommand<number>('token-requests', { probe: 'veto-retry' })).to.equal(2);
  });

  it('lets the page change the variables: the agent receives them, and the element keeps its own', async () => {
    const el = await fixture<VoiceAgentElement>(html`
      <voice-agent layout="inline" agent-id="edit-variables" token-endpoint="/api/voice-token" variables='{"greeting":"","plan":"free","stale":true}'></voice-agent>
    `);
    el.addEventListener('va-before-connect', (event) => {
      const { config } = event.detail;
      config.variables = { ...config.variables, plan: 'pro', visits: 3, customer: 'Ada' };
      delete (config.variables as Record<string, unknown>)['stale'];
    });
    const connected = nextEvent<CustomEvent>(el, 'va-connect');
    void el.start();
    const stats = (await agentSession((await connected).detail.sessionId))!;
    expect(stats.variables).to.deep.equal({ greeting: '', plan: 'pro', visits: 3, customer: 'Ada' });
    expect(stats.mode).to.equal('webcall');
    expect(el.variables, 'the element keeps its own variables').to.deep.equal({ greeting: '', plan: 'free', stale: true });
  });

  it('gives each listener the variables the one before it left, edited in place or replaced', async () => {
    const el = await fixture<VoiceAgentElement>(html`
      <voice-agent layout="inline" mode="chat" agent-id="edit-in-place" token-endpoint="/api/voice-token" variables='{"step":0}'></voice-agent>
    `);
    const seen: unknown[] = [];
    el.addEventListener('va-before-connect', (event) => {
      (event.detail.config.variables as Record<string, unknown>)['step'] = 1;
    });
    const onDocument = (event: GlobalEventHandlersEventMap['va-before-connect']) => {
      seen.push({ ...event.detail.config.variables });
      event.detail.config.variables = { ...event.detail.config.variables, step: 2, by: 'document' };
    };
    document.addEventListener('va-before-connect', onDocument);
    const connected = nextEvent<CustomEvent>(el, 'va-connect');
    try {
      await el.start();
    } finally {
      document.removeEventListener('va-before-connect', onDocument);
    }
    const stats = (await agentSession((await connected).detail.sessionId))!;
    expect(seen).to.deep.equal([{ step: 1 }]);
    expect(stats.variables).to.deep.equal({ step: 2, by: 'document' });
    expect(el.variables).to.deep.equal({ step: 0 });
  });

  it('lets the page change agentId, mode, tokenEndpoint and serverUrl for the call', async () => {
    const connectUrl = await serverCommand<string>('agent-connect-url');
    const el = await fixture<VoiceAgentElement>(html`
      <voice-agent
        layout="inline"
        agent-id="before-edit"
        token-endpoint="/api/token/http-500?probe=edit-settings"
        server-url="wss://unused.invalid/agent"
      ></voice-agent>
    `);
    const gum = spies.getUserMediaCalls;
    el.addEventListener('va-before-connect', (event) => {
      Object.assign(event.detail.config, { agentId: 'after-edit', mode: 'chat', tokenEndpoint: '/api/voice-token?probe=edit-settings' });
    });
    const connected = nextEvent<CustomEvent>(el, 'va-connect');
    await el.start();
    const stats = (await agentSession((await connected).detail.sessionId))!;
    expect({ agentId: stats.agentId, mode: stats.mode }).to.deep.equal({ agentId: 'after-edit', mode: 'chat' });
    expect(spies.getUserMediaCalls, 'a chat needs no microphone').to.equal(gum);
    expect(await serverCommand<number>('token-requests', { probe: 'edit-settings' }), 'only the edited endpoint was asked').to.equal(1);
    expect([el.agentId, el.mode]).to.deep.equal(['before-edit', 'webcall']);
    await el.stop();

    // serverUrl is used when the token comes without a url of its own.
    el.tokenProvider = async (request, signal) => {
      const response = await fetch('/api/voice-token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request), signal });
      const body = (await response.json()) as { data?: { access_token?: string }; access_token?: string };
      return { token: body.data?.access_token ?? body.access_token ?? '' }; // the token alone, without the answer's url
    };
    el.mode = 'chat';
    el.addEventListener('va-before-connect', (event) => (event.detail.config.serverUrl = connectUrl));
    await el.start();
    expect(el.status).to.equal('connected');
    expect(spies.sockets.at(-1)!.url.startsWith(`${connectUrl}?token=wct_`)).to.equal(true);
  });

  it('checks what the listeners changed: an invalid edit fails the start with config-invalid and opens nothing', async () => {
    const el = await fixture<VoiceAgentElement>(html`
      <voice-agent layout="inline" agent-id="bad-edit" token-endpoint="/api/voice-token?probe=bad-edit"></voice-agent>
    `);
    const gum = spies.getUserMediaCalls;
    el.addEventListener('va-before-connect', (event) => {
      event.detail.config.variables = { nested: { not: 'allowed' } } as never;
    });
    const error = nextEvent<CustomEvent>(el, 'va-error');
    await el.start();
    const { detail } = await error;
    expect([detail.code, detail.fatal]).to.deep.equal(['config-invalid', true]);
    expect(detail.message).to.contain('"nested"');
    expect(el.status).to.equal('disconnected');
    expect(spies.getUserMediaCalls).to.equal(gum);
    expect(await serverCommand<number>('token-requests', { probe: 'bad-edit' })).to.equal(0);
  });
});

describe('an element made by a framework', () => {
  it('works from document.createElement with properties set before it is in the document', async () => {
    const el = document.createElement('voice-agent' as string) as VoiceAgentElement;
    Object.assign(el, { agentId: 'created-by-script', tokenEndpoint: '/api/voice-token', mode: 'chat', layout: 'inline', variables: { from: 'createElement' } });
    document.body.append(el);
    made.push({ el });
    const connected = nextEvent<CustomEvent>(el, 'va-connect');
    await el.start();
    const stats = (await agentSession((await connected).detail.sessionId))!;
    expect([stats.agentId, stats.mode, stats.variables]).to.deep.equal(['created-by-script', 'chat', { from: 'createElement' }]);
  });

  it('picks up properties set before the element was defined (the upgrade), even when started in the same task', async () => {
    const tag = `voice-agent-late-${++definedTags}`;
    const holder = document.createElement('div');
    document.body.append(holder);
    const el = document.createElement(tag) as VoiceAgentElement;
    holder.append(el);
    made.push({ el, holder });
    // Before the upgrade these are plain properties of an HTMLElement.
    Object.assign(el, {
      agentId: 'late-upgrade',
      tokenEndpoint: '/api/voice-token?probe=late-upgrade',
      mode: 'chat',
      layout: 'inline',
      agentName: 'Ada',
      variables: { upgraded: true },
      strings: { chatEnd: 'Hang up' },
    });
    expect(el instanceof ElementClass).to.equal(false);
    const connected = nextEvent<CustomEvent>(el, 'va-connect');
    customElements.define(tag, class extends ElementClass {});
    expect(el instanceof ElementClass, 'upgraded by define()').to.equal(true);
    // Started in the same task as the upgrade, before the element's first render (as a framework's
    // layout effect would): it must use the properties all the same.
    await el.start();
    const stats = (await agentSession((await connected).detail.sessionId))!;
    expect([stats.agentId, stats.mode, stats.variables]).to.deep.equal(['late-upgrade', 'chat', { upgraded: true }]);
    expect(el.open, 'inline: no panel to open').to.equal(false);
    await el.updateComplete;
    expect(part(el, 'name')!.textContent).to.equal('Ada');
    expect(part(el, 'call-button')!.textContent!.trim()).to.equal('Hang up');
    expect(el.strings.chatStart, 'the other words stay English').to.equal('Start chat');
  });
});

describe('a call while the element moves', () => {
  const moves: [string, (el: VoiceAgentElement) => Element | undefined][] = [
    [
      'within its parent',
      (el) => {
        el.parentElement!.append(document.createElement('p'));
        el.parentElement!.append(el);
        return undefined;
      },
    ],
    [
      'into another container',
      (el) => {
        const other = document.createElement('section');
        document.body.append(other);
        other.append(el);
        return other;
      },
    ],
    [
      'into a shadow root',
      (el) => {
        const host = document.createElement('div');
        document.body.append(host);
        host.attachShadow({ mode: 'open' }).append(el);
        return host;
      },
    ],
  ];

  for (const [where, move] of moves) {
    it(`survives a move ${where}: the same socket, no new session, and the call goes on`, async () => {
      const { el, sessionId, socket } = await connectedCall(`move-${where.replaceAll(' ', '-')}`, `move-${where}`);
      const events = recordEvents(el);
      const holder = move(el);
      if (holder) made.push({ el, holder });
      expect(el.isConnected).to.equal(true);
      await el.updateComplete;
      await expectCallGoesOn(el, sessionId, socket, `still here after a move ${where}`);
      expect(events.filter((e) => e.type !== 'va-transcript').map((e) => e.type), 'no status change, error or disconnect').to.deep.equal([]);
      expect(await serverCommand<number>('token-requests', { probe: `move-${where}` })).to.equal(1);
      expect(part(el, 'status')!.textContent, 'it still renders').to.match(/Listening|speaking|Connected/);
    });
  }

  it('ends the call when removed, and releases the microphone, audio and socket', async () => {
    const { el, sessionId, socket } = await connectedCall('removed', 'removed');
    const disconnected = nextEvent<CustomEvent>(el, 'va-disconnect');
    el.remove();
    expect((await disconnected).detail.reason).to.equal('client_requested');
    expect(el.status).to.equal('disconnected');
    await expectAllReleased(spies);
    expect(socket.readyState).to.equal(WebSocket.CLOSED);
    await waitUntil(async () => (await agentSession(sessionId))!.closeReason !== undefined, 'the agent sees the end');
    expect((await agentSession(sessionId))!.closeReason).to.equal('client_requested');
  });

  it('removed while it connects, it opens nothing more and releases what it had opened', async () => {
    const el = await fixture<VoiceAgentElement>(html`
      <voice-agent layout="inline" agent-id="removed-early" token-endpoint="/api/voice-token?probe=removed-early" variables=${QUIET}></voice-agent>
    `);
    const sockets = spies.sockets.length;
    const ended = nextEvent<CustomEvent>(el, 'va-status-change', (e) => e.detail.status === 'disconnected');
    void el.start();
    expect(el.status).to.equal('connecting');
    el.remove();
    await ended;
    await expectAllReleased(spies);
    expect(spies.sockets.length).to.equal(sockets);
    expect(await serverCommand<number>('token-requests', { probe: 'removed-early' })).to.equal(0);
    expect(await serverCommand<number>('agent-session-count', { agentId: 'removed-early' })).to.equal(0);
  });
});

describe('mounted, unmounted and mounted again quickly', () => {
  it("start, stop and start in one task (an effect, its cleanup, the effect again) make exactly one call", async () => {
    const el = await fixture<VoiceAgentElement>(html`
      <voice-agent layout="inline" agent-id="strict-effects" token-endpoint="/api/voice-token?probe=strict-effects" variables=${QUIET}></voice-agent>
    `);
    const events = recordEvents(el);
    const sockets = spies.sockets.length;
    void el.start();
    void el.stop();
    await el.start();
    expect(el.status).to.equal('connected');
    expect(spies.sockets.length - sockets, 'sockets opened').to.equal(1);
    expect(await serverCommand<number>('token-requests', { probe: 'strict-effects' })).to.equal(1);
    expect(await serverCommand<number>('agent-session-count', { agentId: 'strict-effects' })).to.equal(1);
    expect(events.filter((e) => e.type === 'va-connect').length).to.equal(1);
    expect(events.filter((e) => e.type === 'va-error')).to.deep.equal([]);
    // The first attempt let go of its microphone and AudioContext; the call holds one of each.
    await waitUntil(
      () =>
        spies.streams.filter((s) => s.getTracks().some((t) => t.readyState === 'live')).length === 1 &&
        spies.contexts.filter((c) => c.state !== 'closed').length === 1,
      'one live microphone and one open AudioContext',
    );
  });

  it('stop() then start() during a call starts a new call once the old one has closed, and each reports its end (the order: churn.test.ts)', async () => {
    const { el, sessionId: first } = await connectedCall('restart', 'restart');
    const events = recordEvents(el);
    const connected = nextEvent<CustomEvent>(el, 'va-connect');
    const disconnected = nextEvent<CustomEvent>(el, 'va-disconnect');
    void el.stop();
    const restarted = el.start();
    const second = (await connected).detail.sessionId as string;
    await restarted;
    expect((await disconnected).detail.reason, 'the first call reports its end').to.equal('client_requested');
    expect(second).not.to.equal(first);
    expect(el.status).to.equal('connected');
    const [old, current] = await sessionsOf([first, second]);
    await waitUntil(async () => (await agentSession(first))!.closeReason !== undefined, 'the first session ends on the agent');
    expect((await agentSession(first))!.closeReason).to.equal('client_requested');
    expect(old.agentId).to.equal(current.agentId);
    expect(current.closeReason).to.equal(undefined);
    expect(events.filter((e) => e.type === 'va-disconnect').length).to.equal(1);
    expect(events.filter((e) => e.type === 'va-error')).to.deep.equal([]);
    await waitUntil(() => spies.sockets.filter((s) => s.readyState !== WebSocket.CLOSED).length === 1, 'one socket open: the new call\'s');
    expect(spies.sockets.at(-1)!.readyState).to.equal(WebSocket.OPEN);
  });
});
