import '../support/guards.js';
import { expect } from '@open-wc/testing';
import { VoiceAgentError } from '../../src/errors.js';
import type { SocketClose } from '../../src/transport/close-codes.js';
import { FRAME_SLICE_MS, SocketTransport, type SocketOpenOptions } from '../../src/transport/socket-transport.js';
import { fakeWebSocketClass } from '../support/fake-web-socket.js';
import { pageTurn, waitUntil } from '../support/harness.js';

const SERVER_URL = 'wss://agent.test/connect?token=wct_1';

/** Opens a transport on a fake WebSocket; the server's side is driven through `socket()`. */
function setup(options: Omit<SocketOpenOptions, 'WebSocketImpl'> = {}) {
  const { WebSocketImpl, made } = fakeWebSocketClass();
  const opening = SocketTransport.open(SERVER_URL, { ...options, WebSocketImpl });
  return { opening, made, socket: () => made[0]! };
}

/** A transport whose socket the server has opened. */
async function opened() {
  const ctx = setup();
  ctx.socket().serverOpen();
  return { ...ctx, transport: await ctx.opening };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Lets callbacks queued as microtasks (late listeners, early frames) run. */
const microtasks = () => Promise.resolve();

/** What a listener that takes 1 ms a frame heard: 100 frames at once would hold the page for 100 ms. */
function slowListener(transport: SocketTransport): unknown[] {
  const heard: unknown[] = [];
  transport.onFrame((frame) => {
    heard.push(frame);
    const until = performance.now() + 1;
    while (performance.now() < until);
  });
  return heard;
}

describe('SocketTransport', () => {
  it('opens the URL with its protocols, reads frames as ArrayBuffers, and resolves only once open', async () => {
    const ctx = setup({ protocols: ['atoms'] });
    let resolved = false;
    void ctx.opening.then(() => (resolved = true));
    await microtasks();
    expect(resolved).to.equal(false);
    expect(ctx.made).to.have.length(1);
    expect([ctx.socket().url, ctx.socket().protocols, ctx.socket().binaryType]).to.deep.equal([SERVER_URL, ['atoms'], 'arraybuffer']);
    ctx.socket().serverOpen();
    const transport = await ctx.opening;
    expect(transport.isOpen).to.equal(true);
  });

  it('fails with socket-failed and the close code when the server closes before the open', async () => {
    const ctx = setup();
    ctx.socket().serverClose(1006);
    const error = await rejection(ctx.opening);
    expect(error).to.be.instanceOf(VoiceAgentError);
    expect(error).to.include({ code: 'socket-failed', closeCode: 1006, message: 'The agent server refused the connection (close code 1006).' });
  });

  it('gives up on a handshake slower than timeoutMs and closes what it opened', async () => {
    const ctx = setup({ timeoutMs: 10 });
    const error = await rejection(ctx.opening);
    expect(error).to.include({ code: 'socket-failed', message: 'The agent server did not answer within 10 ms.' });
    expect(ctx.socket().closeCalls).to.deep.equal([[1000, '']]);
  });

  it('opens nothing when already aborted, and stops the handshake when aborted during it', async () => {
    const stop = new Error('stopped');
    const before = setup({ signal: AbortSignal.abort(stop) });
    expect(await rejection(before.opening)).to.equal(stop);
    expect(before.made).to.have.length(0);

    const controller = new AbortController();
    const during = setup({ signal: controller.signal });
    controller.abort(stop);
    expect(await rejection(during.opening)).to.equal(stop);
    expect(during.socket().closeCalls).to.have.length(1);
  });

  it('fails with socket-failed when the WebSocket constructor refuses the URL', async () => {
    const refused = new SyntaxError('bad URL');
    class Refusing {
      constructor() {
        throw refused;
      }
    }
    const error = await rejection(SocketTransport.open('wss://x', { WebSocketImpl: Refusing as unknown as typeof WebSocket }));
    expect(error).to.include({ code: 'socket-failed', cause: refused });
  });

  it('keeps the frames that arrive before anyone listens for the first listener, in order', async () => {
    const { transport, socket } = await opened();
    const binary = new Uint8Array([1, 2]).buffer;
    socket().serverSend('first');
    socket().serverSend(binary);
    const first: unknown[] = [];
    const second: unknown[] = [];
    transport.onFrame((frame) => first.push(frame));
    transport.onFrame((frame) => second.push(frame));
    await microtasks();
    expect(first).to.deep.equal(['first', binary]);
    expect(second).to.deep.equal([]);
    socket().serverSend('later');
    expect(first).to.deep.equal(['first', binary, 'later']);
    expect(second).to.deep.equal(['later']);
  });

  it('stops delivering frames to a listener once it is detached', async () => {
    const { transport, socket } = await opened();
    const heard: unknown[] = [];
    const detach = transport.onFrame((frame) => heard.push(frame));
    socket().serverSend('a');
    detach();
    socket().serverSend('b');
    expect(heard).to.deep.equal(['a']);
  });

  it('hands a flood on a slice at a time, in order, with the page getting its turns between the slices', async () => {
    const { transport, socket } = await opened();
    const heard = slowListener(transport);
    let heardWhenPageRan = -1;
    setTimeout(() => (heardWhenPageRan = heard.length)); // a task of the page's, due before the flood is through
    const frames = Array.from({ length: 100 }, (_, i) => `frame ${i}`);
    for (const frame of frames) socket().serverSend(frame);
    expect(heard.length, `handed on at once: what fits in one ${FRAME_SLICE_MS} ms slice`).to.be.within(1, FRAME_SLICE_MS + 1);
    await waitUntil(() => heard.length === frames.length, 'every frame is handed on');
    expect(heard).to.deep.equal(frames);
    expect(heardWhenPageRan, 'the page ran before the flood was through').to.be.within(1, frames.length - 1);
    // Once through and the page has had its turn, frames are handed on as they arrive again.
    await pageTurn();
    socket().serverSend('alone');
    expect(heard.at(-1)).to.equal('alone');
  });

  it('tells of the close only after the frames that came before it; sending stops at once', async () => {
    const { transport, socket } = await opened();
    const heard = slowListener(transport);
    const closes: [SocketClose, number][] = [];
    transport.onClose((close) => closes.push([close, heard.length]));
    for (let i = 0; i < 50; i++) socket().serverSend(`frame ${i}`);
    socket().serverClose(1000, 'done');
    expect(transport.isOpen).to.equal(false);
    expect(transport.send('too late')).to.equal(false);
    expect(closes, 'not before the frames waiting are through').to.deep.equal([]);
    transport.onClose((close) => closes.push([close, heard.length])); // a listener that comes meanwhile waits too
    await waitUntil(() => closes.length === 2, 'the close is told');
    expect(closes).to.deep.equal([
      [{ code: 1000, reason: 'done' }, 50],
      [{ code: 1000, reason: 'done' }, 50],
    ]);
  });

  it('sends while open, and sends nothing (returning false) once closing', async () => {
    const { transport, socket } = await opened();
    expect(transport.send('hello')).to.equal(true);
    transport.close();
    expect(transport.isOpen).to.equal(false);
    expect(transport.send('too late')).to.equal(false);
    expect(socket().sent).to.deep.equal(['hello']);
  });

  it('reads bufferedAmount from the socket', async () => {
    const { transport, socket } = await opened();
    socket().bufferedAmount = 4096;
    expect(transport.bufferedAmount).to.equal(4096);
  });

  it('tells each close listener once, with the code and reason, after an error that decides nothing', async () => {
    const { transport, socket } = await opened();
    const heard: SocketClose[] = [];
    const detached: SocketClose[] = [];
    transport.onClose((close) => heard.push(close));
    transport.onClose((close) => detached.push(close))();
    socket().serverError();
    expect(heard).to.deep.equal([]);
    expect(transport.isOpen).to.equal(true);
    socket().serverClose(1011, 'restarting');
    socket().serverClose(1011, 'restarting');
    expect(heard).to.deep.equal([{ code: 1011, reason: 'restarting' }]);
    expect(detached).to.deep.equal([]);
    expect(transport.isOpen).to.equal(false);
  });

  it('tells a listener that comes after the close at once, and delivers no frame after it', async () => {
    const { transport, socket } = await opened();
    const frames: unknown[] = [];
    transport.onFrame((frame) => frames.push(frame));
    socket().serverClose(1000);
    socket().serverSend('after the close');
    const late: SocketClose[] = [];
    transport.onClose((close) => late.push(close));
    await microtasks();
    expect(late).to.deep.equal([{ code: 1000, reason: '' }]);
    expect(frames).to.deep.equal([]);
  });

  it('closes the socket once: a second close, or one after the server closed, does nothing', async () => {
    const first = await opened();
    first.transport.close(4001, 'bye');
    first.transport.close();
    expect(first.socket().closeCalls).to.deep.equal([[4001, 'bye']]);

    const second = await opened();
    second.socket().serverClose(1006);
    second.transport.close();
    expect(second.socket().closeCalls).to.deep.equal([]);
  });

  it('works with an injected WebSocket on a page that has no WebSocket of its own', async () => {
    const scope = globalThis as { WebSocket?: typeof WebSocket };
    const real = scope.WebSocket;
    scope.WebSocket = undefined;
    try {
      const { transport, socket } = await opened();
      expect(transport.isOpen).to.equal(true);
      expect(transport.send('hello')).to.equal(true);
      transport.close();
      transport.close();
      expect(socket().sent).to.deep.equal(['hello']);
      expect(socket().closeCalls).to.have.length(1);
    } finally {
      scope.WebSocket = real;
    }
  });
});
