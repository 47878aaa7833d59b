/**
 * A WebSocket server on 127.0.0.1 that misbehaves on purpose, one scenario per path
 * (`ws://127.0.0.1:PORT/<scenario>`), to prove the element's failure paths against real sockets.
 */
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const created = { type: 'session.created', session_id: 'sess_fault', call_id: 'CALL-fault', sample_rate: 24000, channels: 1 };

/** @type {Record<string, (ws: import('ws').WebSocket, record: ConnectionRecord) => void>} */
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
    (SCENARIOS[scenario] ?? ((socket) => socket.close(1008, 'unknown scenario')))(ws, record);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: (scenario, probe = '') => `ws://127.0.0.1:${port}/${scenario}${probe ? `?probe=${encodeURIComponent(probe)}` : ''}`,
    connections,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
