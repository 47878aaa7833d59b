/**
 * A real `ws` client of the local agent for the Node tests: it keeps every frame it receives, so a
 * test can wait for them in order.
 */
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';

/** A real `ws` client that keeps every frame it receives, so a test can wait for them in order. */
export class Client {
  /** Opens a connection; rejects with the HTTP status (`Error('HTTP 401')`) when the upgrade is refused. */
  static open(url, options) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      const client = new Client(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', (error) => {
        const status = /Unexpected server response: (\d+)/.exec(error.message)?.[1];
        reject(new Error(status ? `HTTP ${status}` : error.message));
      });
    });
  }

  constructor(ws) {
    this.ws = ws;
    this.frames = [];
    this.cursor = 0;
    this.waiters = new Set();
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
    ws.on('message', (data, isBinary) => {
      assert.equal(isBinary, false, 'the agent sends text frames only');
      this.frames.push(JSON.parse(String(data)));
      for (const waiter of this.waiters) waiter();
    });
    ws.on('close', () => {
      for (const waiter of this.waiters) waiter();
    });
  }

  send(event) {
    this.ws.send(typeof event === 'string' ? event : JSON.stringify(event));
  }

  /**
   * The next frame (after the last one returned) for which `match` is true. Resolves with it and the
   * frames passed over on the way.
   */
  next(match, timeoutMs = 8000) {
    const predicate = typeof match === 'string' ? (frame) => frame.type === match : match;
    return new Promise((resolve, reject) => {
      const check = () => {
        const index = this.frames.findIndex((frame, i) => i >= this.cursor && predicate(frame));
        if (index >= 0) {
          const skipped = this.frames.slice(this.cursor, index);
          this.cursor = index + 1;
          done();
          resolve({ frame: this.frames[index], skipped });
        } else if (this.ws.readyState === WebSocket.CLOSED) {
          done();
          reject(new Error(`socket closed while waiting; received: ${this.types().join(', ')}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting; received: ${this.types().join(', ')}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Sends an unknown event and waits for its `invalid_event` answer: everything sent before it has been handled. */
  async sync() {
    this.send({ type: 'test.sync' });
    return this.next((frame) => frame.type === 'error' && frame.message.includes('test.sync'));
  }

  types() {
    return this.frames.map((frame) => frame.type);
  }
}
