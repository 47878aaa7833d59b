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
 * The longest frames are handed on in one go, in ms, before the page gets a turn: a server that
 * sends faster than the page can handle (a flood) is handled a slice at a time, in order, between
 * the page's own tasks, instead of holding its timers, rendering and input back until it is through.
 */
export const FRAME_SLICE_MS = 10;
/**
 * `readyState` values, fixed by the WebSocket standard: read as numbers, not from the page's global
 * `WebSocket`, which an injected implementation need not match (and a non-browser host may lack).
 */
const OPEN = 1;
const CLOSING = 2;

/**
 * The WebSocket lifecycle and nothing else: it knows no message shapes. `open()` resolves once the
 * socket is open (create means ready) and closes what it opened when it fails. Frames that arrive
 * before anyone listens are kept and delivered to the first listener. Frames are handed on as they
 * arrive, except after {@link FRAME_SLICE_MS} of handing them on without the page getting a turn:
 * then they wait (in order, the close after them) for the next slice.
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
  /** Frames waiting for the next slice, oldest first from `_inboxHead`; the close, once they are through. */
  private _inbox: (string | ArrayBuffer)[] = [];
  private _inboxHead = 0;
  private _closeWaits = false;
  /** When the current slice began; -1 once the page has had a turn since. */
  private _sliceStart = -1;
  /** Posts the page's turn (a task, never throttled as timers are in background tabs), once it is needed. */
  private _turns?: MessageChannel;
  private _turnPosted = false;

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

  /** Called once, when the socket has closed (by either side), after the frames before it. Late listeners are called at once. */
  onClose(listener: CloseListener): () => void {
    if (this._closed && !this._closeWaits) {
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
    else if (this._inboxHead === this._inbox.length && this._inSlice()) this._deliver(event.data);
    else {
      this._inbox.push(event.data);
      this._postTurn();
    }
  };

  private readonly _handleClose = (event: CloseEvent): void => {
    if (this._closed) return;
    this._closed = { code: event.code, reason: event.reason };
    this._socket.removeEventListener('message', this._handleMessage);
    this._socket.removeEventListener('close', this._handleClose);
    if (this._inboxHead < this._inbox.length) this._closeWaits = true;
    else this._tellClosed();
  };

  private _tellClosed(): void {
    this._closeWaits = false;
    const listeners = [...this._closeListeners];
    this._closeListeners.clear();
    this._frameListeners.clear();
    this._pending = [];
    this._turns?.port1.close();
    this._turns?.port2.close();
    for (const listener of listeners) listener(this._closed!);
  }

  private _deliver(frame: string | ArrayBuffer): void {
    for (const listener of this._frameListeners) listener(frame);
  }

  /** Whether the current slice has time left; the first frame of a slice asks for the page's turn after it. */
  private _inSlice(): boolean {
    const now = performance.now();
    if (this._sliceStart < 0) {
      this._sliceStart = now;
      this._postTurn();
    }
    return now - this._sliceStart < FRAME_SLICE_MS;
  }

  private _postTurn(): void {
    if (this._turnPosted) return;
    this._turnPosted = true;
    if (!this._turns) {
      this._turns = new MessageChannel();
      this._turns.port1.onmessage = this._handleTurn;
    }
    this._turns.port2.postMessage(null);
  }

  /** The page has had a turn: a new slice hands on what waited, as much as fits in it. */
  private readonly _handleTurn = (): void => {
    this._turnPosted = false;
    this._sliceStart = -1;
    if (this._inboxHead === this._inbox.length) return;
    const start = (this._sliceStart = performance.now());
    try {
      while (this._inboxHead < this._inbox.length && performance.now() - start < FRAME_SLICE_MS) {
        const frame = this._inbox[this._inboxHead]!;
        this._inbox[this._inboxHead++] = '';
        this._deliver(frame);
      }
    } finally {
      // Either way, the page gets a turn before the next slice: frames that arrive meanwhile count in this one.
      if (this._inboxHead === this._inbox.length) {
        this._inbox = [];
        this._inboxHead = 0;
        if (this._closeWaits) this._tellClosed();
      }
      if (this._inboxHead < this._inbox.length || !this._closed) this._postTurn();
    }
  };
}
