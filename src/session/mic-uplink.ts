/**
 * The microphone's way onto the socket under backpressure. A frame goes out at once while the
 * socket's send buffer (`bufferedAmount`) is within its bound; above it, frames wait in a short queue,
 * and when the queue is full the oldest is dropped: the agent hears the latest speech, late audio is
 * worth less than current audio. Control frames never pass through here, so they are never dropped.
 */

/** The part of the socket the uplink needs. */
export interface UplinkSocket {
  readonly bufferedAmount: number;
  send(frame: string | ArrayBuffer): boolean;
}

export interface MicUplinkOptions {
  /** Bytes the socket may hold unsent before frames wait. */
  maxBufferedBytes: number;
  /** Frames that may wait; beyond them the oldest is dropped. */
  maxQueuedFrames: number;
  /** The uplink started dropping audio (`true`), or caught up again with nothing waiting (`false`). */
  onSlow(slow: boolean): void;
}

export class MicUplink {
  private _queue: Int16Array[] = [];
  private _dropped = 0;
  private _slow = false;

  constructor(
    private readonly _options: MicUplinkOptions,
    private readonly _encode: (pcm: Int16Array) => string | ArrayBuffer,
  ) {}

  /** Frames dropped since the uplink was made. */
  get dropped(): number {
    return this._dropped;
  }

  /** Frames waiting for the socket. */
  get queued(): number {
    return this._queue.length;
  }

  /** Sends `pcm` after whatever waits, as far as the socket takes them; queues or drops the rest. */
  push(pcm: Int16Array, socket: UplinkSocket): void {
    this._queue.push(pcm);
    this.flush(socket);
    const { maxQueuedFrames } = this._options;
    if (this._queue.length <= maxQueuedFrames) return;
    this._dropped += this._queue.length - maxQueuedFrames;
    this._queue.splice(0, this._queue.length - maxQueuedFrames);
    this._setSlow(true);
  }

  /** Sends waiting frames while the socket's buffer is within its bound. */
  flush(socket: UplinkSocket): void {
    const { maxBufferedBytes } = this._options;
    while (this._queue.length > 0 && socket.bufferedAmount <= maxBufferedBytes) {
      if (!socket.send(this._encode(this._queue.shift()!))) {
        this._queue = [];
        break;
      }
    }
    if (this._queue.length === 0) this._setSlow(false);
  }

  /** Forgets what waits (the socket it was meant for is gone). */
  clear(): void {
    this._queue = [];
  }

  private _setSlow(slow: boolean): void {
    if (this._slow === slow) return;
    this._slow = slow;
    this._options.onSlow(slow);
  }
}
