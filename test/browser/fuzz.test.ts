/**
 * Hostile input from the agent server, through the real socket into a live voice call: over 11,000
 * generated frames (test/support/fuzz-frames.mjs, the fault server's `fuzz` scenario) must leave no
 * uncaught exception, no unhandled rejection, the call connected and the page responsive, with the
 * transcript, the waiting captions and the playback queue within their caps and oversize frames
 * refused with rate-limited protocol errors. And text with HTML or script in it is shown as text.
 */
import { expect, fixture, html } from '@open-wc/testing';
import { DEFAULT_PLAYBACK_CAPACITY_SECONDS } from '../../src/audio/audio-engine.js';
import { MAX_FRAME_SIZE } from '../../src/protocol/agent-events.js';
import type { SessionStatus } from '../../src/session/session-types.js';
import { MAX_ENTRY_TEXT_LENGTH, MAX_TRANSCRIPT_ENTRIES } from '../../src/session/transcript-log.js';
import { FRAME_SLICE_MS } from '../../src/transport/socket-transport.js';
import {
  ENGINE,
  expectAllReleased,
  frames,
  installSpies,
  loadBundle,
  nextEvent,
  pageTurn,
  part,
  parts,
  recordEvents,
  serverCommand,
  type VoiceAgentElement,
  waitUntil,
} from '../support/harness.js';

const spies = installSpies();
await loadBundle();

const STATUSES: readonly SessionStatus[] = ['disconnected', 'connecting', 'connected', 'disconnecting'];
/** The seed of the generated frames: the same seed, the same frames. */
const SEED = 1;
const LAST_WORDS = 'still alive after the fuzz';
/**
 * A page whose main thread is held this long has stopped responding: the budget for a task.
 * Wall-clock gaps in the page cannot be held to it on a shared two-core machine: with two browsers at
 * once, a page stalls up to about 470 ms by itself, whatever runs in it (CI once saw 974 ms in WebKit
 * running alone). So the widget's own work is measured apart, the way a benchmark measures: the frames
 * (all large ones, a tenth of the rest) are handed to the call's socket once more, as if they had just
 * arrived, and timed through their handling and the render they cause; a pause of the machine's lands
 * on one try, not on all, so the least of a few tries is a frame's work. The transport hands frames on
 * in FRAME_SLICE_MS slices (exactly, in socket-transport.test.ts; here, the page's turns between them
 * while a replay drains), so no task of the widget's is longer than a slice and one frame's work.
 */
const RESPONSIVE_MS = 200;
/** The most one frame's work may take: a slice may run over by one frame. */
const FRAME_WORK_BUDGET_MS = RESPONSIVE_MS - FRAME_SLICE_MS;
/** Frames whose first try takes over this much are tried again, up to TRIES times in all. */
const RETRY_OVER_MS = FRAME_WORK_BUDGET_MS / 8;
const TRIES = 5;
/** The page as a whole, whatever the machine: it never goes this long without a turn. */
const PAGE_TURN_BOUND_MS = 10 * RESPONSIVE_MS;

interface FuzzRecord {
  seed: number;
  done: boolean;
  frames: number;
  sent: number;
  bytes: number;
  oversize: number;
  floodFrames: number;
  burstSamples: number;
  finalTranscripts: number;
  serverErrors: number;
  toolsRejected: number;
  htmlPayloads: number;
  deepNesting: number;
  skippedEnding: number;
  ms: number;
  kinds: Record<string, number>;
}

let probes = 0;
function fault(scenario: string, query = '') {
  const probe = `${scenario}-${++probes}-${Math.random().toString(36).slice(2)}`;
  return {
    endpoint: `/api/token/fault/${scenario}?probe=${probe}${query}`,
    record: async () => (await serverCommand<{ fuzz?: FuzzRecord }[]>('fault-connections', { probe }))[0],
  };
}

/** Everything thrown and never caught, and every rejection never handled, from now on. */
function watchUncaught(): string[] {
  const seen: string[] = [];
  window.addEventListener('error', (event) => seen.push(`error: ${event.message}`));
  window.addEventListener('unhandledrejection', (event) => seen.push(`unhandled rejection: ${String(event.reason)}`));
  return seen;
}

/** The longest the main thread went without running a 10 ms timer, until `stop()`. */
function heartbeat(): { stop(): number } {
  let last = performance.now();
  let worst = 0;
  let timer = 0;
  const beat = () => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
    timer = window.setTimeout(beat, 10);
  };
  timer = window.setTimeout(beat, 10);
  return {
    stop() {
      clearTimeout(timer);
      return Math.max(worst, performance.now() - last);
    },
  };
}

/** Tasks the browser reports as long (Chromium alone has the `longtask` entry type). */
function longTasks(): { stop(): number[] } | undefined {
  if (!PerformanceObserver.supportedEntryTypes.includes('longtask')) return undefined;
  const durations: number[] = [];
  const observer = new PerformanceObserver((list) => durations.push(...list.getEntries().map((entry) => entry.duration)));
  observer.observe({ type: 'longtask' });
  return {
    stop() {
      durations.push(...observer.takeRecords().map((entry) => entry.duration));
      observer.disconnect();
      return durations;
    },
  };
}

/**
 * What each socket received after `session.created`, as it came, from the socket's construction on:
 * `take()` ends the record (frames the test replays are not recorded again) and returns it.
 */
const recorded = new WeakMap<WebSocket, { take(): (string | ArrayBuffer)[] }>();
const SpiedWebSocket = window.WebSocket;
window.WebSocket = class extends SpiedWebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols);
    const frames: (string | ArrayBuffer)[] = [];
    let created = false;
    const record = ({ data }: MessageEvent) => {
      if (created) frames.push(data);
      else created = typeof data === 'string' && data.includes('"session.created"');
    };
    this.addEventListener('message', record);
    recorded.set(this, {
      take: () => {
        this.removeEventListener('message', record);
        return frames;
      },
    });
  }
};

/** `frame`, handed to the call's socket as if it had just arrived. */
function arrive(socket: WebSocket, frame: string | ArrayBuffer): void {
  socket.dispatchEvent(new MessageEvent('message', { data: frame }));
}

afterEach(async () => {
  for (const el of document.querySelectorAll<VoiceAgentElement>('voice-agent')) await el.stop();
  await expectAllReleased(spies);
});

describe('hostile frames from the agent server', () => {
  it(`a live call survives over 11,000 generated frames (seed ${SEED}) within its caps, responsive, and ends cleanly`, async function () {
    this.timeout(90_000); // the fuzz, then its frames twice more
    const uncaught = watchUncaught();
    const scenario = fault('fuzz', `&seed=${SEED}`);
    const el = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" agent-id="a1" mode="webcall" token-endpoint=${scenario.endpoint}></voice-agent>`);
    const events = recordEvents(el);
    const lastWords = nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.text === LAST_WORDS);
    await el.start();
    expect(el.status).to.equal('connected');

    // The call is live: the player exists, and the fuzz starts with the first microphone frame.
    const socket = spies.sockets.at(-1)!;
    const player = spies.workletNodes.filter((n) => n.name === 'voice-agent-playback').at(-1)!.node;
    const context = spies.contexts.at(-1)!;
    let droppedSamples = 0;
    const processorErrors: string[] = [];
    player.port.addEventListener('message', ({ data }) => data?.type === 'overflow' && (droppedSamples += data.droppedSamples));
    player.addEventListener('processorerror', (event) => processorErrors.push(String((event as ErrorEvent).message)));
    const beat = heartbeat();
    const long = longTasks();
    const started = performance.now();
    await lastWords;
    const fuzzFrames = recorded.get(socket)!.take();
    const seconds = (performance.now() - started) / 1000;
    const worstGap = beat.stop();
    const longDurations = long?.stop();

    const fuzz = (await scenario.record()).fuzz!;
    expect(fuzz.done, 'the server sent every frame').to.equal(true);
    expect(fuzzFrames.length, 'the page received every frame').to.equal(fuzz.sent);
    console.log(
      `fuzz seed ${fuzz.seed} (${ENGINE}): ${fuzz.frames} frames, ${(fuzz.bytes / 1e6).toFixed(1)} MB, sent in ${fuzz.ms} ms, ` +
        `through the page in ${seconds.toFixed(1)} s; longest timer gap ${worstGap.toFixed(0)} ms; long tasks ${JSON.stringify(longDurations?.map(Math.round) ?? 'n/a')}`,
    );
    // What went out: every kind, enough of each.
    expect(fuzz.frames).to.be.at.least(11_000);
    expect(fuzz.skippedEnding, 'the generator made no frame that ends a call').to.equal(0);
    expect(fuzz.floodFrames).to.equal(1000);
    expect(fuzz.oversize, 'strings of megabytes and binary frames over 1 MiB').to.be.at.least(6);
    expect(fuzz.deepNesting).to.equal(6);
    for (const kind of ['audio', 'transcript', 'wrong-types', 'random-json', 'unknown-type', 'bad-base64', 'out-of-order', 'binary', 'not-json', 'error', 'nan-infinity', 'talking']) {
      expect(fuzz.kinds[kind] ?? 0, kind).to.be.at.least(100);
    }

    // No exception, in the page or on the audio thread; the call never left `connected`.
    expect(uncaught).to.deep.equal([]);
    expect(processorErrors).to.deep.equal([]);
    const statuses = events.filter((e) => e.type === 'va-status-change').map((e) => e.detail.status as SessionStatus);
    expect(statuses.every((status) => STATUSES.includes(status))).to.equal(true);
    expect(statuses).to.deep.equal(['connecting', 'connected']);
    expect(el.status).to.equal('connected');
    expect(events.filter((e) => e.type === 'va-disconnect')).to.deep.equal([]);

    // The page as a whole went on getting turns (the widget's own work is measured below).
    expect(worstGap, 'the longest the page went without running a timer (ms)').to.be.below(PAGE_TURN_BOUND_MS);
    expect(longDurations !== undefined, 'the longtask entry type exists in Chromium only').to.equal(ENGINE === 'chromium');
    if (longDurations) expect(Math.max(0, ...longDurations), 'the longest task (ms)').to.be.below(PAGE_TURN_BOUND_MS);

    // Errors: every one non-fatal; the server's own error frames each reported; unreadable frames
    // (the oversize one first) reported at most once a second.
    const errors = events.filter((e) => e.type === 'va-error').map((e) => e.detail as { code: string; message: string; fatal: boolean });
    expect(errors.filter((e) => e.fatal)).to.deep.equal([]);
    expect([...new Set(errors.map((e) => e.code))].sort()).to.deep.equal(['protocol-error', 'server-error', 'tools-rejected']);
    expect(errors.filter((e) => e.code === 'server-error')).to.have.length(fuzz.serverErrors);
    expect(errors.filter((e) => e.code === 'tools-rejected')).to.have.length(fuzz.toolsRejected);
    const protocolErrors = errors.filter((e) => e.code === 'protocol-error');
    expect(protocolErrors[0].message).to.match(new RegExp(`^Skipped a frame from the agent: frame of \\d+ characters is over the ${MAX_FRAME_SIZE} limit$`));
    expect(protocolErrors.length, 'one protocol-error a second at most').to.be.at.most(Math.ceil(seconds) + 1);

    // The transcript: full, at its cap; no entry (and no update on the way) over the text limit.
    expect(fuzz.finalTranscripts).to.be.above(MAX_TRANSCRIPT_ENTRIES);
    expect(el.transcript).to.have.length(MAX_TRANSCRIPT_ENTRIES);
    expect(el.transcript.at(-1)).to.deep.equal({ role: 'user', text: LAST_WORDS, final: true });
    const updates = events.filter((e) => e.type === 'va-transcript').map((e) => (e.detail as { text: string }).text.length);
    expect(Math.max(...updates), 'the longest transcript text shown').to.equal(MAX_ENTRY_TEXT_LENGTH);
    expect(el.transcript.every((entry) => entry.text.length <= MAX_ENTRY_TEXT_LENGTH)).to.equal(true);
    await el.updateComplete;
    // One bubble for each entry with words (a turn that has none yet shows none).
    const messages = parts(el, 'message');
    expect(messages).to.have.length(el.transcript.filter((entry) => entry.text !== '').length);
    expect(messages.length).to.be.above(MAX_TRANSCRIPT_ENTRIES / 2);
    // Text only: the list holds its items and their spans, whatever HTML the agent sent.
    expect(fuzz.htmlPayloads).to.be.above(100);
    const tags = new Set([...part(el, 'transcript')!.querySelectorAll('*')].map((node) => node.localName));
    expect([...tags].sort()).to.deep.equal(['li', 'span']);
    expect((window as { __vaInjected?: unknown }).__vaInjected).to.equal(undefined);

    // The playback queue: the burst (a clear, then 45 s of audio at once) overfilled the player's 30 s
    // ring; what did not fit was dropped and counted, not kept.
    const burstSeconds = fuzz.burstSamples / 24000;
    expect(burstSeconds).to.be.above(DEFAULT_PLAYBACK_CAPACITY_SECONDS + 10);
    // At most a few seconds can play while the burst comes in, on the slowest engine.
    const bound = burstSeconds - DEFAULT_PLAYBACK_CAPACITY_SECONDS - 3;
    await waitUntil(() => droppedSamples / context.sampleRate >= bound, `at least ${bound} s of the burst dropped (dropped ${droppedSamples / context.sampleRate} s)`);

    // The widget's own work, frame by frame: a frame handed to the socket again, in a turn of its own,
    // is timed until the page's next turn and the render after it: through the transport (at once, or
    // in the slice it waited for, which runs before that turn: posted messages keep their order), the
    // protocol, the session and the element. An upper bound: it takes in whatever else the browser does
    // between the two turns (WebKit lays the page out there). Every frame of 10 KB or more is measured,
    // and every tenth of the rest (some tens of each kind); the least of a few tries is the work.
    const measured = fuzzFrames.filter((frame, index) => index % 10 === 0 || (typeof frame === 'string' ? frame.length : frame.byteLength) >= 10_000);
    const work: number[] = [];
    for (const frame of measured) {
      let least = Infinity;
      for (let tries = 0; tries < TRIES && (tries === 0 || least > RETRY_OVER_MS); tries++) {
        await pageTurn();
        const start = performance.now();
        arrive(socket, frame);
        await pageTurn();
        await el.updateComplete;
        least = Math.min(least, performance.now() - start);
      }
      work.push(least);
    }
    const worst = work.indexOf(Math.max(...work));
    const sorted = [...work].sort((a, b) => a - b);
    console.log(
      `fuzz work (${ENGINE}): ${work.length} frames measured; per frame median ${sorted[sorted.length >> 1]!.toFixed(2)} ms, ` +
        `p99 ${sorted[Math.floor(sorted.length * 0.99)]!.toFixed(1)} ms, most ${work[worst]!.toFixed(1)} ms (${String(measured[worst]).slice(0, 60)})`,
    );
    expect(work[worst], `the most one frame's work takes (ms): ${String(measured[worst]).slice(0, 200)}`).to.be.below(FRAME_WORK_BUDGET_MS);

    // All of them again, arriving in one task: the transport hands them on in slices, and the page gets
    // its turns between them before the last one is through.
    const replayed = `replayed in one task (${ENGINE})`;
    let through = false;
    void nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.text === replayed).then(() => (through = true));
    for (const frame of fuzzFrames) arrive(socket, frame);
    arrive(socket, JSON.stringify({ type: 'transcript', role: 'user', text: replayed }));
    const replayStart = performance.now();
    let turnsBetween = 0;
    for (; !through; turnsBetween++) await pageTurn();
    console.log(`fuzz replay in one task (${ENGINE}): through in ${(performance.now() - replayStart).toFixed(0)} ms, with ${turnsBetween} turns of the page's`);
    // Handing on 11,000 frames takes the widget far more than 10 slices in every engine (the log shows how
    // long); in one go, the page would have had a single turn, after the last.
    expect(turnsBetween, 'turns the page had while the replay was handed on').to.be.at.least(10);
    expect(el.transcript.at(-1)).to.deep.equal({ role: 'user', text: replayed, final: true });
    expect(uncaught).to.deep.equal([]);

    // And the call still works: typed text goes out and shows, and the call ends cleanly.
    expect(el.sendText('hello after all that')).to.equal(true);
    expect(el.transcript.at(-1)).to.deep.equal({ role: 'user', text: 'hello after all that', final: true });
    const stopped = nextEvent<CustomEvent>(el, 'va-disconnect');
    await el.stop();
    expect((await stopped).detail).to.deep.equal({ reason: 'client_requested' });
    expect(el.status).to.equal('disconnected');
    expect(uncaught).to.deep.equal([]);
    await expectAllReleased(spies);
  });

  it('shows transcript text with HTML and script in it as text, and keeps such error and tool text out of the page', async () => {
    const uncaught = watchUncaught();
    const scenario = fault('html-payloads');
    const el = await fixture<VoiceAgentElement>(html`<voice-agent layout="inline" mode="chat" agent-id="a1" token-endpoint=${scenario.endpoint}></voice-agent>`);
    el.tools = { lookup: { description: 'Looks things up', handler: ({ query }: Record<string, unknown>) => `<b>found</b> ${String(query)}` } };
    const events = recordEvents(el);
    const done = nextEvent<CustomEvent>(el, 'va-transcript', (e) => e.detail.text === 'done');
    await el.start();
    el.sendText('go');
    await done;
    const { payloads } = (await scenario.record()) as unknown as { payloads: string[] };
    expect(payloads).to.have.length.above(5);
    await waitUntil(() => events.filter((e) => e.type === 'va-tool-result').length === 2, 'both tool calls are answered');
    await el.updateComplete;
    await frames(2);

    // Each payload is in the transcript, and on screen, as the very characters sent.
    const texts = el.transcript.map((entry) => entry.text);
    expect(texts).to.deep.equal(['go', ...payloads, payloads[1], 'done']);
    expect(el.transcript.at(-2)).to.deep.equal({ role: 'assistant', text: payloads[1], final: false });
    const shown = parts(el, 'message').map((message) => message.querySelector('.text')!.textContent);
    expect(shown).to.deep.equal(texts);
    const tags = new Set([...part(el, 'transcript')!.querySelectorAll('*')].map((node) => node.localName));
    expect([...tags].sort()).to.deep.equal(['li', 'span']);
    expect(el.shadowRoot!.querySelectorAll('img, script, iframe, a, [onerror], [onload], [srcdoc]')).to.have.length(0);
    expect(document.querySelectorAll('body img, body iframe, body a, body [onerror], body [onload]')).to.have.length(0);

    // The error frames' messages reach `va-error` as plain text, and the view shows no error part
    // (they are not fatal): the server's words never become markup.
    const errors = events.filter((e) => e.type === 'va-error').map((e) => e.detail as { code: string; message: string; fatal: boolean });
    expect(errors.map((e) => [e.code, e.fatal])).to.deep.equal(payloads.map(() => ['server-error', false]));
    expect(errors.map((e) => e.message)).to.deep.equal(payloads.map((text) => `The agent server reported invalid_event: ${text}`));
    expect(part(el, 'error')).to.equal(null);

    // Tool calls: the arguments and names arrive as data, the handler's markup goes back as text.
    const calls = events.filter((e) => e.type === 'va-tool-call').map((e) => e.detail);
    expect(calls).to.deep.equal([{ callId: 'call_html', name: 'lookup', arguments: { query: payloads[0] } }]);
    const results = events.filter((e) => e.type === 'va-tool-result').map((e) => e.detail as { callId: string; name: string; output: string; error?: string });
    expect(results.find((r) => r.callId === 'call_html')).to.include({ callId: 'call_html', name: 'lookup', output: `<b>found</b> ${payloads[0]}` });
    expect(results.find((r) => r.callId === 'call_unknown')).to.include({ name: payloads[2], error: 'unknown-tool' });

    // Nothing ran: an injected image would have failed to load and run its handler by now.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((window as { __vaInjected?: unknown }).__vaInjected).to.equal(undefined);
    expect(uncaught).to.deep.equal([]);
    expect(el.status).to.equal('connected');
  });
});
