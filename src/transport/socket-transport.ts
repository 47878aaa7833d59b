import { VoiceAgentError } from '../errors.js';

export interface SocketClose {
  code: number;
  reason: string;
}

export interface SocketOpenOptions {
  protocols?: string[];
  signal?: AbortSignal;
  /** How long the handshake may take. */
  timeoutMs?: number;
  /** Injected for tests and non-browser hosts. */
  WebSocketImpl?: typeof WebSocket;
}

type FrameListener = (data: string | ArrayBuffer) => void;
type CloseListener = (close: SocketClose) => void;

const DEFAULT_OPEN_TIMEOUT_MS = 10_000;

/**
 * The WebSocket lifecycle and nothing else: it knows no message shapes. `open()` resolves once the
 * socket is open (create means ready) and closes what it opened when it fails. Frames that arrive
 * before anyone listens are kept and delivered to the first listener.
 */
export class SocketTransport {
  static open(url: string, options: SocketOpenOptions = {}): Promise<SocketTransport> {
    const { protocols, signal, timeoutMs = DEFAULT_OPEN_TIMEOUT_MS, WebSocketImpl = WebSocket } = options;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      let socket: WebSocket;
      try {
        socket = new WebSocketImpl(url, protocols);
      } catch (cause) {
        return reject(new VoiceAgentError('socket-failed', 'The agent server URL was refused by the browser.', { cause }));
      }
      socket.binaryType = 'arraybuffer';
      const transport = new SocketTransport(socket);
      const settle = (error?: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.removeEventListener('open', onOpen);
        transport.closeListeners.delete(onEarlyClose);
        if (error === undefined) return resolve(transport);
        transport.close();
        reject(error);
      };
      const onOpen = () => settle();
      const onAbort = () => settle(signal!.reason);
      const onEarlyClose = ({ code }: SocketClose) =>
        settle(new VoiceAgentError('socket-failed', `The agent server refused the connection (close code ${code}).`, { closeCode: code }));
      const timer = setTimeout(
        () => settle(new VoiceAgentError('socket-failed', `The agent server did not answer within ${timeoutMs} ms.`)),
        timeoutMs,
      );
      socket.addEventListener('open', onOpen);
      transport.closeListeners.add(onEarlyClose);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private readonly frameListeners = new Set<FrameListener>();
  private readonly closeListeners = new Set<CloseListener>();
  private pending: (string | ArrayBuffer)[] = [];
  private closed?: SocketClose;

  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener('message', this.handleMessage);
    socket.addEventListener('close', this.handleClose);
    // An `error` is always followed by `close`, which carries the code: the close decides the outcome.
  }

  get isOpen(): boolean {
    return !this.closed && this.socket.readyState === WebSocket.OPEN;
  }

  /** Bytes queued in the browser but not yet sent; used to shed audio under backpressure. */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  /** Sends a frame; returns false (and sends nothing) once the socket is no longer open. */
  send(frame: string | ArrayBuffer): boolean {
    if (!this.isOpen) return false;
    this.socket.send(frame);
    return true;
  }

  onFrame(listener: FrameListener): () => void {
    this.frameListeners.add(listener);
    if (this.pending.length > 0) {
      const queued = this.pending;
      this.pending = [];
      queueMicrotask(() => queued.forEach((frame) => listener(frame)));
    }
    return () => this.frameListeners.delete(listener);
  }

  /** Called once, when the socket has closed (by either side). Late listeners are called at once. */
  onClose(listener: CloseListener): () => void {
    if (this.closed) {
      const closed = this.closed;
      queueMicrotask(() => listener(closed));
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Idempotent. Listeners hear the close when the browser reports it. */
  close(code = 1000, reason = ''): void {
    if (this.socket.readyState === WebSocket.CLOSING || this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.close(code, reason);
  }

  private readonly handleMessage = (event: MessageEvent<string | ArrayBuffer>): void => {
    if (this.frameListeners.size === 0) this.pending.push(event.data);
    else for (const listener of this.frameListeners) listener(event.data);
  };

  private readonly handleClose = (event: CloseEvent): void => {
    if (this.closed) return;
    this.closed = { code: event.code, reason: event.reason };
    this.socket.removeEventListener('message', this.handleMessage);
    this.socket.removeEventListener('close', this.handleClose);
    const listeners = [...this.closeListeners];
    this.closeListeners.clear();
    this.frameListeners.clear();
    this.pending = [];
    for (const listener of listeners) listener(this.closed);
  };
}
