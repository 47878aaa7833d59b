/**
 * A WebSocket stand-in for SocketTransport's unit tests, injected as `WebSocketImpl`. It records what
 * the transport does to it; tests drive what the server does. Its `readyState` values are the
 * standard's numbers; the class has no `OPEN`/`CLOSING`/`CLOSED` constants of its own.
 */
export class FakeWebSocket extends EventTarget {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readyState = 0;
  bufferedAmount = 0;
  binaryType = 'blob';
  readonly sent: (string | ArrayBuffer)[] = [];
  /** Each call of `close()`, with its arguments. */
  readonly closeCalls: [code?: number, reason?: string][] = [];

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    super();
  }

  send(data: string | ArrayBuffer): void {
    if (this.readyState !== 1) throw new DOMException('The socket is not open.', 'InvalidStateError');
    this.sent.push(data);
  }

  /** As a browser does: closing at once, closed when the server answers (`serverClose`). */
  close(code?: number, reason?: string): void {
    this.closeCalls.push([code, reason]);
    if (this.readyState < 2) this.readyState = 2;
  }

  // Drivers, named after what the server does.
  serverOpen(): void {
    this.readyState = 1;
    this.dispatchEvent(new Event('open'));
  }
  serverSend(data: string | ArrayBuffer): void {
    this.dispatchEvent(new MessageEvent('message', { data }));
  }
  serverError(): void {
    this.dispatchEvent(new Event('error'));
  }
  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.dispatchEvent(new CloseEvent('close', { code, reason, wasClean: code === 1000 }));
  }
}

/** A WebSocket class to inject, and the sockets made with it, oldest first. */
export function fakeWebSocketClass(): { WebSocketImpl: typeof WebSocket; made: FakeWebSocket[] } {
  const made: FakeWebSocket[] = [];
  class Made extends FakeWebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      made.push(this);
    }
  }
  return { WebSocketImpl: Made as unknown as typeof WebSocket, made };
}
