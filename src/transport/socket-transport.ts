import { VoiceAgentError } from '../errors.js';
import { closeOutcome, type SocketClose } from './close-codes.js';

/** How to open a socket. */
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
 * `readyState` values, fixed by the WebSocket standard: read as numbers, not from the page's global
 * `WebSocket`, which an injected implementation need not match (and a non-browser host may lack).
 */
const OPEN = 1;
const CLOSING = 2;

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
        transport._closeListeners.delete(onEarlyClose);
        if (error === undefined) return resolve(transport);
        transport.close();
        reject(error);
      };
      const onOpen = () => settle();
      const onAbort = () => settle(signal!.reason);
      const onEarlyClose = (close: SocketClose) => settle(closeOutcome(close, 'opening').error);
      const timer = setTimeout(
        () => settle(new VoiceAgentError('socket-failed', `The agent server did not answer within ${timeoutMs} ms.`)),
        timeoutMs,
      );
      socket.addEventListener('open', onOpen);
      transport._closeListeners.add(onEarlyClose);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private readonly _frameListeners = new Set<FrameListener>();
  private readonly _closeListeners = new Set<CloseListener>();
  private _pending: (string | ArrayBuffer)[] = [];
  private _closed?: SocketClose;

  private constructor(private readonly _socket: WebSocket) {
    _socket.addEventListener('message', this._handleMessage);
    _socket.addEventListener('close', this._handleClose);
    // An `error` is always followed by `close`, which carries the code: the close decides the outcome.
  }

  /** Whether frames can be sent: open, and no close heard yet. */
  get isOpen(): boolean {
    return !this._closed && this._socket.readyState === OPEN;
  }

  /** Bytes queued in the browser but not yet sent; used to shed audio under backpressure. */
  get bufferedAmount(): number {
    return this._socket.bufferedAmount;
  }

  /** Sends a frame; returns false (and sends nothing) once the socket is no longer open. */
  send(frame: string | ArrayBuffer): boolean {
    if (!this.isOpen) return false;
    this._socket.send(frame);
    return true;
  }

  /** Calls `listener` with every frame received; the first listener also gets those that came before it. */
  onFrame(listener: FrameListener): () => void {
    this._frameListeners.add(listener);
    if (this._pending.length > 0) {
      const queued = this._pending;
      this._pending = [];
      queueMicrotask(() => queued.forEach((frame) => listener(frame)));
    }
    return () => this._frameListeners.delete(listener);
  }

  /** Called once, when the socket has closed (by either side). Late listeners are called at once. */
  onClose(listener: CloseListener): () => void {
    if (this._closed) {
      const closed = this._closed;
      queueMicrotask(() => listener(closed));
      return () => {};
    }
    this._closeListeners.add(listener);
    return () => this._closeListeners.delete(listener);
  }

  /** Idempotent. Listeners hear the close when the browser reports it. */
  close(code = 1000, reason = ''): void {
    if (this._socket.readyState >= CLOSING) return;
    this._socket.close(code, reason);
  }

  private readonly _handleMessage = (event: MessageEvent<string | ArrayBuffer>): void => {
    if (this._frameListeners.size === 0) this._pending.push(event.data);
    else for (const listener of this._frameListeners) listener(event.data);
  };

  private readonly _handleClose = (event: CloseEvent): void => {
    if (this._closed) return;
    this._closed = { code: event.code, reason: event.reason };
    this._socket.removeEventListener('message', this._handleMessage);
    this._socket.removeEventListener('close', this._handleClose);
    const listeners = [...this._closeListeners];
    this._closeListeners.clear();
    this._frameListeners.clear();
    this._pending = [];
    for (const listener of listeners) listener(this._closed);
  };
}
