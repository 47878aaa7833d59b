/**
 * Churn: many calls in a row on one element, clicks in quick succession, a start during a stop, the
 * element removed at each step of a connect, removed and put back, and two widgets on one page, all
 * against the real token handler and local agent. What each proves, beside its own behaviour: one
 * token request and one agent session per call, never two sessions of one widget open at once (the
 * agent's own record), and afterwards every microphone track ended, every AudioContext and socket
 * closed (the harness spies), no listener left on window, document or mediaDevices, and no DOM node
 * left over.
 *
 * The 100 cycles (after 3 warm-up calls), through the call button, per engine:
 * - Chromium: 100 voice calls (microphone, AudioContext, worklets; about 80 ms a cycle, 8 s in all).
 *   Also the JS heap after a forced collection (DevTools protocol) grows by less than HEAP_BOUND, and
 *   no call's socket stays reachable after it (all but the newest are collected).
 * - WebKit: 20 voice calls and 80 chats, about 6 s. 100 voice calls take 25 to 30 s here, and twice in
 *   five runs of them the browser went away mid-test (WebKit's audio teardown in GStreamer is known to
 *   hang now and then: test/support/webkit-launcher.mjs); 20 keep the file short and that risk small.
 *   No heap figure: WebKit offers none here.
 * - Firefox: 3 voice calls and 97 chats, about 9 s: its AudioContext takes about 2 s to start running
 *   after the previous one closed (it reopens its PulseAudio output each time), so 100 voice calls
 *   would take over 3 minutes. No heap figure either.
 * A chat still makes a token request, a socket and an agent session each time; a voice call adds the
 * microphone, the AudioContext and its worklets. Without a forced collection (Chromium only) a
 * FinalizationRegistry or WeakRef proves nothing, so Firefox and WebKit prove release by the counts.
 * Tests whose point is not the audio run as chats in Firefox (MODE), for the same 2 s.
 *
 * Related cases covered in host-page.test.ts, not repeated here: moves during a call (within the
 * parent, into another container, into a shadow root: the same socket, no new session), removal
 * during a call, removal while the microphone is being opened, and start / stop / start in one task.
 */
import { expect, fixture, html } from '@open-wc/testing';
import {
  agentSession,
  ENGINE,
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

const spies = installSpies();
await loadBundle();

const QUIET = JSON.stringify({ greeting: '' });

/**
 * Heap growth allowed over the 100 voice calls (Chromium), both figures after a forced collection.
 * Measured here: 318 KB (three runs within 1 KB of each other); heap snapshots put it in compiled
 * code and in what Chromium itself keeps of every closed AudioContext that loaded worklets and of
 * every microphone stream (a plain page that opens and closes them grows the same way), not in the
 * widget's objects. 768 KB (7.7 KB a call) is well clear of that and fails a leak of a call's audio
 * buffers, transcript or render state; an ended session kept by mistake (about 1.6 KB, measured) is
 * below it.
 */
const HEAP_BOUND = 768 * 1024;

/** The voice calls among the 100 cycles, the others chats (they come first): see the comment at the top. */
const VOICE_CYCLES = { chromium: 100, webkit: 20, firefox: 3 }[ENGINE];
/**
 * The mode of the tests whose point is not the audio (clicks, re-insertion): a voice call, but a chat
 * in Firefox, whose AudioContext takes about 2 s to start each time.
 */
const MODE = ENGINE === 'firefox' ? 'chat' : 'webcall';
/** Calls the first of two widgets makes while the second stays in its call. */
const A_CYCLES = 3;

interface SessionsSummary {
  count: number;
  open: number;
  maxOpen: number;
  closeReasons: Record<string, number>;
}

function sessionsOf(agentId: string): Promise<SessionsSummary> {
  return serverCommand<SessionsSummary>('agent-sessions-summary', { agentId });
}

function tokenRequests(probe: string): Promise<number> {
  return serverCommand<number>('token-requests', { probe });
}

/** A widget on the page (a voice call unless `mode` says chat), its token requests counted under `name`, also its agent id. */
function widget(name: string, mode: 'webcall' | 'chat' = 'webcall'): Promise<VoiceAgentElement> {
  return fixture<VoiceAgentElement>(html`
    <voice-agent layout="inline" mode=${mode} agent-id=${name} token-endpoint=${`/api/voice-token?probe=${name}`} variables=${QUIET}></voice-agent>
  `);
}

/**
 * Listeners on the page's shared targets: added and not yet removed. The element may listen to
 * them during a call; when it has ended, it may hold none it did not hold before.
 */
const TARGETS = { window, document, mediaDevices: navigator.mediaDevices } as const;
const held = new Map<EventTarget, Set<string>>();
let listenerIds = 0;
const ids = new WeakMap<object, number>();
for (const target of Object.values(TARGETS)) {
  const keys = new Set<string>();
  held.set(target, keys);
  const key = (type: string, listener: unknown, options?: boolean | EventListenerOptions) => {
    if (!listener || (typeof listener !== 'object' && typeof listener !== 'function')) return undefined;
    if (!ids.has(listener)) ids.set(listener, ++listenerIds);
    const capture = typeof options === 'boolean' ? options : !!options?.capture;
    return `${type}:${ids.get(listener)}:${capture}`;
  };
  const add = target.addEventListener.bind(target);
  const remove = target.removeEventListener.bind(target);
  target.addEventListener = (type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions) => {
    const k = key(type, listener, options);
    if (k && !(typeof options === 'object' && options.once)) keys.add(k);
    add(type, listener as EventListenerOrEventListenerObject, options);
  };
  target.removeEventListener = (type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions) => {
    const k = key(type, listener, options);
    if (k) keys.delete(k);
    remove(type, listener as EventListenerOrEventListenerObject, options);
  };
}

function listenerCounts(): Record<keyof typeof TARGETS, number> {
  return { window: held.get(window)!.size, document: held.get(document)!.size, mediaDevices: held.get(navigator.mediaDevices)!.size };
}

function domNodes(el: VoiceAgentElement): { document: number; shadow: number } {
  return { document: document.getElementsByTagName('*').length, shadow: el.shadowRoot!.querySelectorAll('*').length };
}

/**
 * Chromium's used JS heap after garbage collection, in bytes, with the spies' references to every
 * track, context, socket and worklet node let go first (each proved released before): what remains
 * is what the page keeps. Answers weak references to the sockets let go, to be checked after the
 * collection. Null elsewhere.
 */
async function heapAfterRelease(): Promise<{ heap: number | null; sockets: WeakRef<WebSocket>[] }> {
  await expectAllReleased(spies);
  const sockets = spies.sockets.map((socket) => new WeakRef(socket));
  spies.contexts.length = spies.sockets.length = spies.streams.length = spies.workletNodes.length = 0;
  spies.interruptionFrames.length = spies.nextAudioFrames.length = 0;
  return { heap: (await serverCommand<{ usedBytes: number | null }>('js-heap')).usedBytes, sockets };
}

/** One call through the call button: click, connected, click, disconnected. */
async function cycle(el: VoiceAgentElement): Promise<void> {
  const connected = nextEvent(el, 'va-connect');
  part(el, 'call-button')!.click();
  await connected;
  const ended = nextEvent<CustomEvent>(el, 'va-status-change', (e) => e.detail.status === 'disconnected');
  part(el, 'call-button')!.click();
  await ended;
}

/** The `va-*` events in order (transcripts and va-before-connect left out), a status change as `status:<status>`. */
function timeline(events: CustomEvent[]): string[] {
  return events
    .filter((e) => e.type !== 'va-transcript' && e.type !== 'va-before-connect')
    .map((e) => (e.type === 'va-status-change' ? `status:${e.detail.status}` : e.type));
}

/** Holds `fetch` calls to URLs containing `marker` until released; each reports when it is held. */
function holdFetches(marker: string) {
  const realFetch = window.fetch;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let holding!: () => void;
  const heldOne = new Promise<void>((resolve) => (holding = resolve));
  const settled: Promise<unknown>[] = [];
  window.fetch = (input, init) => {
    if (!String(input instanceof Request ? input.url : input).includes(marker)) return realFetch(input, init);
    holding();
    const answer = released.then(() => realFetch(input, init));
    settled.push(answer.catch((error: unknown) => error));
    return answer;
  };
  return {
    heldOne,
    /** Lets the held requests go (to a browser that aborts those whose signal fired) and waits until they settle. */
    async releaseAll(): Promise<unknown[]> {
      window.fetch = realFetch;
      release();
      return Promise.all(settled);
    },
  };
}

/** Runs `onSocket` with each socket the page opens from now on, in the constructor's task. */
let onSocket: ((socket: WebSocket) => void) | undefined;
const SpiedSocket = window.WebSocket;
window.WebSocket = class extends SpiedSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols);
    onSocket?.(this);
  }
};

afterEach(async () => {
  onSocket = undefined;
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  await expectAllReleased(spies);
});

describe('100 calls in a row on one element', () => {
  it(`one session each, never two at once, and nothing left: no track, context, socket, listener or node (${VOICE_CYCLES} of them voice calls)`, async function () {
    this.timeout(120_000);
    const el = await widget('churn-cycles');
    // Counted, not kept: kept events would be heap too.
    const counts = { connect: 0, error: 0, disconnect: {} as Record<string, number> };
    el.addEventListener('va-connect', () => counts.connect++);
    el.addEventListener('va-error', () => counts.error++);
    el.addEventListener('va-disconnect', ({ detail: { reason } }) => (counts.disconnect[reason] = (counts.disconnect[reason] ?? 0) + 1));
    // Warm-up: the engine chunk, the worklet modules, Lit's templates and the first render of each state.
    for (const mode of ['chat', 'chat', 'webcall'] as const) {
      el.mode = mode;
      await cycle(el);
    }
    const before = { ...(await heapAfterRelease()), listeners: listenerCounts(), nodes: domNodes(el), gum: spies.getUserMediaCalls, tokens: await tokenRequests('churn-cycles') };

    for (let i = 0; i < 100; i++) {
      el.mode = i < 100 - VOICE_CYCLES ? 'chat' : 'webcall';
      await cycle(el);
    }
    const opened = { gum: spies.getUserMediaCalls - before.gum, contexts: spies.contexts.length, sockets: spies.sockets.length, streams: spies.streams.length };
    const after = await heapAfterRelease();

    expect(opened, 'opened during the 100 cycles').to.deep.equal({ gum: VOICE_CYCLES, contexts: VOICE_CYCLES, sockets: 100, streams: VOICE_CYCLES });
    expect((await tokenRequests('churn-cycles')) - before.tokens, 'token requests').to.equal(100);
    expect(await sessionsOf('churn-cycles'), 'the agent saw one session per call, one at a time').to.deep.equal({
      count: 103,
      open: 0,
      maxOpen: 1,
      closeReasons: { client_requested: 103 },
    });
    expect(counts, 'va-connect, va-error and va-disconnect (by reason)').to.deep.equal({ connect: 103, error: 0, disconnect: { client_requested: 103 } });
    expect(el.status).to.equal('disconnected');
    expect(el.animating, 'the visualiser stopped').to.equal(false);
    expect(listenerCounts(), 'listeners held on window, document and mediaDevices').to.deep.equal(before.listeners);
    expect(domNodes(el), 'elements in the document and in the shadow root').to.deep.equal(before.nodes);
    if (ENGINE === 'chromium') {
      const growth = after.heap! - before.heap!;
      expect(growth, `JS heap growth over 100 cycles: ${Math.round(growth / 1024)} KB`).to.be.below(HEAP_BOUND);
      // Collected (the heap figure forced a collection): no call's transport outlives it. The newest
      // may still be referenced by the element's last, ended session.
      const reachable = after.sockets.filter((ref) => ref.deref() !== undefined).length;
      expect(reachable, 'sockets of the 100 calls still reachable').to.be.at.most(1);
    } else {
      expect([before.heap, after.heap], `${ENGINE} has no heap figure here`).to.deep.equal([null, null]);
    }
  });
});

/** A click on the call button as the browser dispatches it: `detail` counts the clicks of a double or triple click. */
function click(el: VoiceAgentElement, detail = 1): void {
  part(el, 'call-button')!.dispatchEvent(new MouseEvent('click', { bubbles: true, composed: true, cancelable: true, detail }));
}

describe('clicks in quick succession on the call button and the launcher', () => {
  for (const [count, name] of [
    [2, 'double'],
    [3, 'triple'],
  ] as const) {
    it(`a ${name} click makes one call: the first click starts it and the others do not undo it`, async () => {
      const agentId = `churn-${name}-click`;
      const el = await widget(agentId, MODE);
      const events = recordEvents(el);
      const counted = { gum: spies.getUserMediaCalls, sockets: spies.sockets.length };
      const settled = Promise.race([nextEvent(el, 'va-connect'), nextEvent<CustomEvent>(el, 'va-status-change', (e) => e.detail.status === 'disconnected')]);
      for (let detail = 1; detail <= count; detail++) {
        click(el, detail);
        // Each click of a double click comes in a task of its own, after the button re-rendered.
        await el.updateComplete;
      }
      await settled;
      expect(el.status).to.equal('connected');
      const { sessionId } = events.find((e) => e.type === 'va-connect')!.detail as { sessionId: string };
      expect(await tokenRequests(agentId), 'token requests').to.equal(1);
      expect(await sessionsOf(agentId)).to.deep.equal({ count: 1, open: 1, maxOpen: 1, closeReasons: {} });
      expect({ gum: spies.getUserMediaCalls - counted.gum, sockets: spies.sockets.length - counted.sockets }).to.deep.equal({ gum: MODE === 'webcall' ? 1 : 0, sockets: 1 });
      expect(timeline(events)).to.deep.equal(['status:connecting', 'status:connected', 'va-connect']);
      expect((await agentSession(sessionId))!.closeReason).to.equal(undefined);
    });
  }

  it(`a double click on the floating launcher opens the panel once and keeps it open${MODE === 'webcall' ? ', with one call' : ''}`, async () => {
    const agentId = 'churn-launcher-double-click';
    const el = await fixture<VoiceAgentElement>(
      html`<voice-agent mode=${MODE} agent-id=${agentId} token-endpoint=${`/api/voice-token?probe=${agentId}`} variables=${QUIET}></voice-agent>`,
    );
    const events = recordEvents(el);
    const connected = MODE === 'webcall' ? nextEvent(el, 'va-connect') : undefined;
    for (let detail = 1; detail <= 2; detail++) {
      part(el, 'launcher')!.dispatchEvent(new MouseEvent('click', { bubbles: true, composed: true, cancelable: true, detail }));
      await el.updateComplete;
    }
    await connected;
    expect(el.open, 'the panel stays open').to.equal(true);
    expect(events.filter((e) => e.type === 'va-open' || e.type === 'va-close').map((e) => e.type)).to.deep.equal(['va-open']);
    if (MODE === 'webcall') {
      expect(el.status).to.equal('connected');
      expect(await sessionsOf(agentId)).to.deep.equal({ count: 1, open: 1, maxOpen: 1, closeReasons: {} });
    } else {
      expect(el.status, 'a chat starts with the first message, not the launcher').to.equal('disconnected');
    }
  });

  it('separate single clicks in one task: the second cancels the call the first started, the third finds it ending; nothing reaches the agent', async () => {
    const el = await widget('churn-single-clicks');
    const events = recordEvents(el);
    const counted = { gum: spies.getUserMediaCalls, sockets: spies.sockets.length };
    const ended = nextEvent<CustomEvent>(el, 'va-status-change', (e) => e.detail.status === 'disconnected');
    click(el);
    click(el);
    click(el);
    await ended;
    await expectAllReleased(spies);
    expect(spies.getUserMediaCalls - counted.gum, 'microphone requests').to.be.at.most(1);
    expect(spies.sockets.length - counted.sockets, 'sockets').to.equal(0);
    expect(await tokenRequests('churn-single-clicks'), 'token requests').to.equal(0);
    expect((await sessionsOf('churn-single-clicks')).count, 'agent sessions').to.equal(0);
    expect(timeline(events)).to.deep.equal(['status:connecting', 'status:disconnecting', 'status:disconnected']);

    // Nothing is left half-done: the next click makes one call.
    const connected = nextEvent(el, 'va-connect');
    click(el);
    await connected;
    expect(await tokenRequests('churn-single-clicks')).to.equal(1);
    expect(await sessionsOf('churn-single-clicks')).to.deep.equal({ count: 1, open: 1, maxOpen: 1, closeReasons: {} });
  });
});

describe('a start during a stop', () => {
  it("start() right after stop(): the new call waits for the old one to end, whose va-disconnect comes before any event of the new call", async () => {
    const el = await widget('churn-restart', MODE);
    await el.start();
    const first = spies.sockets.at(-1)!;
    const events = recordEvents(el);
    const stopped = el.stop();
    const restarted = el.start();
    expect(el.status, 'the widget shows the new call starting at once').to.equal('connecting');
    await Promise.all([stopped, restarted]);
    expect(el.status).to.equal('connected');
    expect(timeline(events)).to.deep.equal(['status:disconnecting', 'status:disconnected', 'va-disconnect', 'status:connecting', 'status:connected', 'va-connect']);
    expect(events.find((e) => e.type === 'va-disconnect')!.detail.reason).to.equal('client_requested');
    expect(await tokenRequests('churn-restart')).to.equal(2);
    expect(await sessionsOf('churn-restart'), 'the agent never had both open').to.deep.equal({ count: 2, open: 1, maxOpen: 1, closeReasons: { client_requested: 1 } });
    expect(first.readyState).to.equal(WebSocket.CLOSED);
    expect(spies.sockets.filter((s) => s.readyState !== WebSocket.CLOSED).length, 'open sockets').to.equal(1);
  });

  it('stop() while that new call waits: it is dropped (its AudioContext closes), the old call ends, and nothing else opens', async () => {
    const el = await widget('churn-restart-dropped');
    await el.start();
    const events = recordEvents(el);
    const counted = { gum: spies.getUserMediaCalls, sockets: spies.sockets.length, contexts: spies.contexts.length };
    void el.stop();
    void el.start();
    await el.stop();
    await expectAllReleased(spies);
    expect(el.status).to.equal('disconnected');
    expect(timeline(events)).to.deep.equal(['status:disconnecting', 'status:disconnected', 'va-disconnect']);
    // A voice call's AudioContext is made in the click, before the wait: made, and closed with the rest.
    expect({ gum: spies.getUserMediaCalls - counted.gum, sockets: spies.sockets.length - counted.sockets, contexts: spies.contexts.length - counted.contexts }).to.deep.equal({
      gum: 0,
      sockets: 0,
      contexts: 1,
    });
    expect(await tokenRequests('churn-restart-dropped')).to.equal(1);
    expect(await sessionsOf('churn-restart-dropped')).to.deep.equal({ count: 1, open: 0, maxOpen: 1, closeReasons: { client_requested: 1 } });
  });

  it('a click on the call button while the call ends does nothing; the next click, once it has ended, makes one call', async () => {
    const el = await widget('churn-click-while-ending', MODE);
    const connected = nextEvent(el, 'va-connect');
    click(el);
    await connected;
    const events = recordEvents(el);
    const ended = nextEvent<CustomEvent>(el, 'va-status-change', (e) => e.detail.status === 'disconnected');
    click(el);
    expect(el.status).to.equal('disconnecting');
    click(el);
    await ended;
    expect(timeline(events)).to.deep.equal(['status:disconnecting', 'status:disconnected', 'va-disconnect']);
    expect(await tokenRequests('churn-click-while-ending')).to.equal(1);
    await cycle(el);
    expect(await tokenRequests('churn-click-while-ending')).to.equal(2);
    expect(await sessionsOf('churn-click-while-ending')).to.deep.equal({ count: 2, open: 0, maxOpen: 1, closeReasons: { client_requested: 2 } });
  });
});

describe('removed while it connects (the microphone step: host-page.test.ts)', () => {
  const disconnected = (el: VoiceAgentElement) => nextEvent<CustomEvent>(el, 'va-status-change', (e) => e.detail.status === 'disconnected');

  it('while its token request is pending: the request is abandoned, no socket opens, everything is released', async () => {
    const el = await widget('churn-removed-token');
    const events = recordEvents(el);
    const fetches = holdFetches('probe=churn-removed-token');
    const sockets = spies.sockets.length;
    const ended = disconnected(el);
    void el.start();
    await fetches.heldOne;
    expect(el.status).to.equal('connecting');
    el.remove();
    await ended;
    // The request is let go only now, to a browser that must not send it: its signal fired.
    const [outcome] = await fetches.releaseAll();
    expect((outcome as Error).name).to.equal('AbortError');
    await expectAllReleased(spies);
    expect(spies.sockets.length, 'sockets').to.equal(sockets);
    expect(await tokenRequests('churn-removed-token'), 'token requests that reached the endpoint').to.equal(0);
    expect((await sessionsOf('churn-removed-token')).count).to.equal(0);
    expect(timeline(events)).to.deep.equal(['status:connecting', 'status:disconnecting', 'status:disconnected']);
  });

  it('while its socket is opening: the socket is closed, and the agent keeps no session open', async () => {
    const el = await widget('churn-removed-socket', MODE);
    const events = recordEvents(el);
    const sockets = spies.sockets.length;
    let state = -1;
    onSocket = (socket) =>
      queueMicrotask(() => {
        state = socket.readyState;
        el.remove();
      });
    const ended = disconnected(el);
    void el.start();
    await ended;
    expect(state, 'removed while the socket was connecting').to.equal(WebSocket.CONNECTING);
    await expectAllReleased(spies);
    expect(spies.sockets.length - sockets, 'sockets').to.equal(1);
    expect(await tokenRequests('churn-removed-socket')).to.equal(1);
    // The agent may or may not have accepted the connection before it closed; none stays open.
    await waitUntil(async () => (await sessionsOf('churn-removed-socket')).open === 0, 'no session open on the agent');
    const { count, closeReasons } = await sessionsOf('churn-removed-socket');
    expect(count).to.be.at.most(1);
    expect(closeReasons).to.deep.equal(count === 1 ? { websocket_closed: 1 } : {});
    expect(timeline(events)).to.deep.equal(['status:connecting', 'status:disconnecting', 'status:disconnected']);
  });

  it('while it waits for the agent to start the session: the socket is closed, the session ends, and no va-connect comes', async () => {
    const el = await widget('churn-removed-session', MODE);
    const events = recordEvents(el);
    onSocket = (socket) => socket.addEventListener('open', () => el.remove(), { once: true });
    const ended = disconnected(el);
    void el.start();
    await ended;
    await expectAllReleased(spies);
    await waitUntil(async () => (await sessionsOf('churn-removed-session')).open === 0, 'the agent session ends');
    expect(await sessionsOf('churn-removed-session')).to.deep.equal({ count: 1, open: 0, maxOpen: 1, closeReasons: { websocket_closed: 1 } });
    expect(timeline(events)).to.deep.equal(['status:connecting', 'status:disconnecting', 'status:disconnected']);
  });
});

describe('removed and put back (put back in the same task, it is a move: host-page.test.ts)', () => {
  it('put back a task later, the call has ended: the element shows it ended, opens nothing by itself, and its next start makes one new session', async () => {
    const el = await widget('churn-reinserted', MODE);
    await el.start();
    const parent = el.parentElement!;
    const events = recordEvents(el);
    const ended = nextEvent<CustomEvent>(el, 'va-disconnect');
    el.remove();
    // Removal is final once the task ends: the call starts ending in a microtask.
    await nextEvent(el, 'va-status-change');
    parent.append(el);
    expect((await ended).detail.reason).to.equal('client_requested');
    await expectAllReleased(spies);
    await el.updateComplete;
    expect(el.status).to.equal('disconnected');
    expect(part(el, 'status')!.textContent).to.match(MODE === 'webcall' ? /^Call ended · 0:0\d$/ : /^Chat ended$/);
    expect(timeline(events)).to.deep.equal(['status:disconnecting', 'status:disconnected', 'va-disconnect']);
    expect(await sessionsOf('churn-reinserted')).to.deep.equal({ count: 1, open: 0, maxOpen: 1, closeReasons: { client_requested: 1 } });

    await el.start();
    expect(el.status).to.equal('connected');
    expect(await tokenRequests('churn-reinserted')).to.equal(2);
    expect(await sessionsOf('churn-reinserted')).to.deep.equal({ count: 2, open: 1, maxOpen: 1, closeReasons: { client_requested: 1 } });
  });

  it('removed while connecting and put back: the connect was dropped, and nothing opens until the next start', async () => {
    const el = await widget('churn-reinserted-early');
    const parent = el.parentElement!;
    const events = recordEvents(el);
    const ended = nextEvent<CustomEvent>(el, 'va-status-change', (e) => e.detail.status === 'disconnected');
    void el.start();
    el.remove();
    await ended;
    parent.append(el);
    await expectAllReleased(spies);
    expect(el.status).to.equal('disconnected');
    expect(await tokenRequests('churn-reinserted-early')).to.equal(0);
    expect(timeline(events)).to.deep.equal(['status:connecting', 'status:disconnecting', 'status:disconnected']);

    await el.start();
    expect(el.status).to.equal('connected');
    expect(await tokenRequests('churn-reinserted-early')).to.equal(1);
    expect(await sessionsOf('churn-reinserted-early')).to.deep.equal({ count: 1, open: 1, maxOpen: 1, closeReasons: {} });
  });
});

describe('two widgets on one page', () => {
  it("each makes exactly one session; one stopping and calling again and again leaves the other's call alone", async () => {
    const container = await fixture<HTMLDivElement>(html`
      <div>
        <voice-agent layout="inline" agent-id="churn-two-a" token-endpoint="/api/voice-token?probe=churn-two-a" variables=${QUIET}></voice-agent>
        <voice-agent layout="inline" agent-id="churn-two-b" token-endpoint="/api/voice-token?probe=churn-two-b" variables=${QUIET}></voice-agent>
      </div>
    `);
    const [a, b] = container.querySelectorAll<VoiceAgentElement>('voice-agent');
    const connected = [nextEvent<CustomEvent>(a, 'va-connect'), nextEvent<CustomEvent>(b, 'va-connect')];
    click(a);
    click(b);
    const [, { detail }] = await Promise.all(connected);
    const sessionB = (detail as { sessionId: string }).sessionId;
    for (const id of ['churn-two-a', 'churn-two-b']) {
      expect(await tokenRequests(id), `${id}: token requests`).to.equal(1);
      expect(await sessionsOf(id), `${id}: sessions`).to.deep.equal({ count: 1, open: 1, maxOpen: 1, closeReasons: {} });
    }
    const live = () => ({
      tracks: spies.streams.filter((s) => s.getTracks().some((t) => t.readyState === 'live')).length,
      contexts: spies.contexts.filter((c) => c.state !== 'closed').length,
      sockets: spies.sockets.filter((s) => s.readyState === WebSocket.OPEN).length,
    });
    expect(live(), 'both calls').to.deep.equal({ tracks: 2, contexts: 2, sockets: 2 });

    const eventsB = recordEvents(b);
    const ended = nextEvent<CustomEvent>(a, 'va-status-change', (e) => e.detail.status === 'disconnected');
    click(a);
    await ended;
    for (let i = 0; i < A_CYCLES; i++) await cycle(a);
    await waitUntil(() => live().tracks === 1 && live().contexts === 1 && live().sockets === 1, 'only the second call holds a microphone, a context and a socket');
    expect(b.status).to.equal('connected');
    expect(eventsB.filter((e) => e.type !== 'va-transcript').map((e) => e.type), 'events on the second widget').to.deep.equal([]);
    const frames = (await agentSession(sessionB))!.appendFrames;
    await waitUntil(async () => (await agentSession(sessionB))!.appendFrames >= frames + 10, 'the second call still streams its microphone');
    expect(await sessionsOf('churn-two-a')).to.deep.equal({ count: 1 + A_CYCLES, open: 0, maxOpen: 1, closeReasons: { client_requested: 1 + A_CYCLES } });
    expect(await sessionsOf('churn-two-b')).to.deep.equal({ count: 1, open: 1, maxOpen: 1, closeReasons: {} });
    expect(await tokenRequests('churn-two-b')).to.equal(1);

    await b.stop();
    await expectAllReleased(spies);
    expect(await sessionsOf('churn-two-b')).to.deep.equal({ count: 1, open: 0, maxOpen: 1, closeReasons: { client_requested: 1 } });
  });
});
