/**
 * A WebSocket server on 127.0.0.1 that misbehaves on purpose, one scenario per path
 * (`ws://127.0.0.1:PORT/<scenario>`), to prove the element's failure paths against real sockets.
 */
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { FrameFuzzer, HTML_PAYLOADS, frameEffect } from './fuzz-frames.mjs';

const created = { type: 'session.created', session_id: 'sess_fault', call_id: 'CALL-fault', sample_rate: 24000, channels: 1 };

/** Ordinary fuzz frames (specials and the flood come on top), and how many go out between two yields to the event loop. */
const FUZZ_FRAMES = 10_000;
const FUZZ_BATCH = 50;
const FUZZ_FLOOD = 1000;
/** Agent audio sent at once, with nothing between: more than the player's 30 s ring holds. */
const FUZZ_BURST_SECONDS = 45;
/** The frame that tells the client the fuzz is over. */
export const FUZZ_LAST_WORDS = 'still alive after the fuzz';

/**
 * @type {Record<string, (ws: import('ws').WebSocket, record: ConnectionRecord, params: URLSearchParams) => void>}
 */
const SCENARIOS = {
  /**
   * Announces the session only after 500 ms, counting the microphone frames that arrive before it:
   * the rate is known from the token answer, but audio must wait for `session.created`.
   */
  'late-session'(ws, record) {
    ws.on('message', (data) => {
      if (String(data).includes('"input_audio_buffer.append"')) {
        if (record.sessionCreated) record.framesAfterSession++;
        else record.framesBeforeSession++;
      }
    });
    setTimeout(() => {
      record.sessionCreated = true;
      ws.send(JSON.stringify(created));
    }, 500);
  },
  /** A fatal setup error, then the 4000 close the spec describes. */
  'error-4000'(ws) {
    ws.send(JSON.stringify({ type: 'error', code: '401', message: 'Invalid or expired token' }));
    ws.close(4000, 'unauthorized');
  },
  /** A fatal error after the session started, in the nested shape. */
  'fatal-after-start'(ws) {
    ws.send(JSON.stringify(created));
    ws.once('message', () => {
      ws.send(JSON.stringify({ type: 'error', code: '500', error: { message: 'agent crashed' } }));
      ws.close(4000);
    });
  },
  /** Garbage of every kind, then one good transcript; the session must stay up. */
  malformed(ws) {
    ws.send(JSON.stringify(created));
    for (const frame of [
      'not json',
      '[1,2,3]',
      'null',
      JSON.stringify({ type: 42 }),
      JSON.stringify({ type: 'output_audio.delta', audio: '@@not base64@@' }),
      JSON.stringify({ type: 'output_audio.delta', audio: 'AAE=' + 'A' }),
      JSON.stringify({ type: 'transcript', role: 'robot', text: 'x' }),
      JSON.stringify({ type: 'transcript.delta', role: 'assistant' }),
      JSON.stringify({ type: 'error', error: { message: 'a non-fatal hiccup' } }),
      JSON.stringify({ type: 'some.future_event', data: {} }),
    ]) {
      ws.send(frame);
    }
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    ws.send(JSON.stringify({ type: 'transcript', role: 'agent', text: 'still here' }));
  },
  /** The connection drops mid-call (no close frame: the browser sees 1006). */
  drop(ws) {
    ws.send(JSON.stringify(created));
    ws.once('message', () => ws.terminate());
  },
  /** Closes before announcing a session. */
  'close-before-session'(ws) {
    ws.close(1011, 'server restarting');
  },
  /** Never announces a session. */
  silent() {},
  /**
   * A real server's way of talking: `agent_start_talking`, then the whole reply's captions and its
   * 2 s of audio (a 440 Hz tone) in one burst, far ahead of realtime, then `agent_stop_talking`.
   */
  'ahead-of-sound'(ws) {
    ws.send(JSON.stringify(created));
    ws.send(JSON.stringify({ type: 'agent_start_talking' }));
    const words = ['One', 'two', 'three', 'four'];
    for (let i = 0; i < words.length; i++) {
      ws.send(JSON.stringify({ type: 'transcript.delta', role: 'assistant', text: words.slice(0, i + 1).join(' ') }));
      const pcm = Buffer.alloc(24000); // 500 ms of 24 kHz PCM16 per word
      for (let n = 0; n < 12000; n++) pcm.writeInt16LE(Math.round(12000 * Math.sin((2 * Math.PI * 440 * n) / 24000)), n * 2);
      ws.send(JSON.stringify({ type: 'output_audio.delta', audio: pcm.toString('base64') }));
    }
    ws.send(JSON.stringify({ type: 'transcript', role: 'assistant', text: 'One two three four.' }));
    ws.send(JSON.stringify({ type: 'agent_stop_talking' }));
  },
  /**
   * The talking events as a newer revision of the docs spells them, with a dot (a text chat: no
   * audio): `agent.start_talking` and a caption at once; once the client writes, the final text,
   * `agent.stop_talking`, and one more final transcript that arrives after it.
   */
  'dotted-talking'(ws) {
    ws.send(JSON.stringify(created));
    ws.send(JSON.stringify({ type: 'agent.start_talking', timestamp: '2026-07-02T10:30:45.123456' }));
    ws.send(JSON.stringify({ type: 'transcript.delta', role: 'assistant', text: 'Still' }));
    ws.on('message', (data) => {
      if (!String(data).includes('"input_text.send"')) return;
      ws.send(JSON.stringify({ type: 'transcript', role: 'assistant', text: 'Still talking.' }));
      ws.send(JSON.stringify({ type: 'agent.stop_talking', timestamp: '2026-07-02T10:30:46.123456' }));
      ws.send(JSON.stringify({ type: 'transcript', role: 'assistant', text: 'Done.' }));
    });
  },
  /**
   * Hostile input from a seeded generator (test/support/fuzz-frames.mjs; `seed` query parameter, 1 by
   * default), once the call is live (the first microphone frame, or 3 s): a frame over the size limit
   * first, then 10,000 frames of every kind in batches of 50, with among them 2 to 8 MB strings, binary
   * frames over 1 MiB, nesting 10,000 deep and transcripts over the entry limit, a flood of 1,000
   * frames in one tick, and a burst of 45 s of agent audio in one tick; never a frame that ends the
   * call. Last, one user transcript, FUZZ_LAST_WORDS. What went out is in `record.fuzz`.
   */
  fuzz(ws, record, params) {
    const seed = Number(params.get('seed') ?? 1);
    const fuzzer = new FrameFuzzer(seed);
    const fuzz = (record.fuzz = {
      seed,
      started: false,
      done: false,
      /** Frames that would have ended the call, held back (a generator that makes none: 0). */
      skippedEnding: 0,
      /** `error` frames sent that the client reports as non-fatal `server-error`s, and as `tools-rejected`. */
      serverErrors: 0,
      toolsRejected: 0,
      /** Frames that went out, the last words among them. */
      sent: 0,
      floodFrames: 0,
      burstSamples: 0,
      batches: 0,
      ms: 0,
      kinds: fuzzer.kinds,
      ...fuzzer.stats,
    });
    const send = (data) => {
      const effect = frameEffect(data);
      if (effect === 'ends-call') {
        fuzz.skippedEnding++;
        return;
      }
      if (effect === 'server-error') fuzz.serverErrors++;
      if (effect === 'tools-rejected') fuzz.toolsRejected++;
      ws.send(data, { binary: typeof data !== 'string' });
      fuzz.sent++;
    };
    // Specials at seeded places among the ordinary frames.
    const at = new Map();
    const place = (make) => {
      let index;
      do index = fuzzer.int(1, FUZZ_FRAMES - 1);
      while (at.has(index));
      at.set(index, make);
    };
    for (let i = 0; i < 3; i++) place(() => [fuzzer.huge()]);
    for (let i = 0; i < 2; i++) place(() => [fuzzer.hugeBinary()]);
    for (let i = 0; i < 6; i++) place(() => [fuzzer.deep()]);
    for (let i = 0; i < 4; i++) place(() => [fuzzer.longTranscript()]);
    place(() => {
      fuzz.floodFrames = FUZZ_FLOOD;
      return Array.from({ length: FUZZ_FLOOD }, () => fuzzer.next());
    });
    place(() => {
      // A clear, then far more audio than the player holds, in 300 ms frames with nothing between.
      const frames = [JSON.stringify({ type: 'interruption' }), JSON.stringify({ type: 'agent_start_talking' })];
      for (let sent = 0; sent < FUZZ_BURST_SECONDS * 1000; sent += 300) frames.push(fuzzer.audio(300));
      fuzz.burstSamples = FUZZ_BURST_SECONDS * 24000;
      return frames;
    });
    const drained = () =>
      new Promise((resolve) => {
        const check = () => (ws.bufferedAmount < 1024 * 1024 || ws.readyState !== ws.OPEN ? resolve() : setTimeout(check, 2));
        check();
      });
    // Everything is made before the first frame goes out: making it would take the CPU the page needs.
    const batches = [[fuzzer.huge()]]; // first, so its protocol-error is the one reported
    for (let i = 1; i < FUZZ_FRAMES; i++) {
      if (i % FUZZ_BATCH === 1) batches.push([]);
      batches.at(-1).push(...(at.get(i)?.() ?? [fuzzer.next()]));
    }
    batches.push([JSON.stringify({ type: 'transcript', role: 'user', text: FUZZ_LAST_WORDS })]);
    Object.assign(fuzz, fuzzer.stats);
    let began = false;
    const begin = () => {
      if (began) return;
      began = true;
      clearTimeout(fallback);
      void run().catch(() => {}); // a client that leaves mid-fuzz ends it
    };
    const fallback = setTimeout(begin, 3000);
    ws.once('message', begin);
    ws.on('close', () => clearTimeout(fallback));
    ws.send(JSON.stringify(created));
    const run = async () => {
      fuzz.started = true;
      const start = performance.now();
      for (const batch of batches) {
        if (ws.readyState !== ws.OPEN) return;
        for (const frame of batch) send(frame);
        fuzz.batches++;
        await drained();
        await new Promise((resolve) => setImmediate(resolve));
      }
      Object.assign(fuzz, { done: true, ms: Math.round(performance.now() - start) });
    };
  },
  /**
   * Text a page must show as text: HTML and script (`record.payloads`) in transcripts, in error
   * messages and in tool calls (name and arguments), once the client writes; then a user transcript, `done`.
   */
  'html-payloads'(ws, record) {
    record.payloads = HTML_PAYLOADS;
    ws.send(JSON.stringify(created));
    ws.on('message', (data) => {
      if (!String(data).includes('"input_text.send"')) return;
      HTML_PAYLOADS.forEach((text, i) => {
        ws.send(JSON.stringify({ type: 'transcript', role: i % 2 ? 'user' : 'assistant', text }));
        ws.send(JSON.stringify({ type: 'error', code: 'invalid_event', message: text }));
      });
      ws.send(JSON.stringify({ type: 'transcript.delta', role: 'assistant', text: HTML_PAYLOADS[1] }));
      ws.send(JSON.stringify({ type: 'function_call', call_id: 'call_html', name: 'lookup', arguments: { query: HTML_PAYLOADS[0] } }));
      ws.send(JSON.stringify({ type: 'function_call', call_id: 'call_unknown', name: HTML_PAYLOADS[2], arguments: {} }));
      ws.send(JSON.stringify({ type: 'transcript', role: 'user', text: 'done' }));
    });
  },
  /** The agent hangs up on its own. */
  ended(ws) {
    ws.send(JSON.stringify(created));
    ws.send(JSON.stringify({ type: 'transcript', role: 'assistant', text: 'Goodbye.' }));
    ws.send(JSON.stringify({ type: 'session.closed', reason: 'ended' }));
    ws.close(1000);
  },
};

/**
 * @typedef {object} ConnectionRecord
 * @property {string} scenario
 * @property {string} probe the `probe` query parameter, so each test finds its own connections
 * @property {boolean} sessionCreated
 * @property {number} framesBeforeSession
 * @property {number} framesAfterSession
 */

export async function startFaultServer() {
  const server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server });
  /** @type {ConnectionRecord[]} */
  const connections = [];
  wss.on('connection', (ws, request) => {
    const url = new URL(request.url, 'http://x');
    const scenario = url.pathname.slice(1);
    const record = { scenario, probe: url.searchParams.get('probe') ?? '', sessionCreated: false, framesBeforeSession: 0, framesAfterSession: 0 };
    connections.push(record);
    ws.on('error', () => {});
    (SCENARIOS[scenario] ?? ((socket) => socket.close(1008, 'unknown scenario')))(ws, record, url.searchParams);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    /** The scenario's socket URL; `params` (such as `seed`) go along as query parameters. */
    url: (scenario, probe = '', params = {}) => {
      const url = new URL(`ws://127.0.0.1:${port}/${scenario}`);
      for (const [name, value] of Object.entries({ probe, ...params })) if (value) url.searchParams.set(name, value);
      return url.href;
    },
    connections,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
