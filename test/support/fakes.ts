/** Fakes for unit tests of VoiceSession alone; everything user-visible is also proven end to end. */
import type { SocketClose } from '../../src/transport/socket-transport.js';
import type { SessionAudio, SessionDeps, SessionSocket } from '../../src/session/voice-session.js';

export class FakeSocket implements SessionSocket {
  readonly sent: unknown[] = [];
  isOpen = true;
  bufferedAmount = 0;
  closedWith?: number;
  private frameListeners = new Set<(frame: string | ArrayBuffer) => void>();
  private closeListeners = new Set<(close: SocketClose) => void>();

  constructor(readonly url: string) {}

  send(frame: string | ArrayBuffer): boolean {
    if (!this.isOpen) return false;
    this.sent.push(typeof frame === 'string' ? JSON.parse(frame) : frame);
    return true;
  }
  onFrame(listener: (frame: string | ArrayBuffer) => void): () => void {
    this.frameListeners.add(listener);
    return () => this.frameListeners.delete(listener);
  }
  onClose(listener: (close: SocketClose) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }
  close(code = 1000): void {
    if (!this.isOpen) return;
    this.closedWith = code;
    this.serverClose(code);
  }

  // Drivers, named after what the server does.
  serverSend(frame: object | string): void {
    const data = typeof frame === 'string' ? frame : JSON.stringify(frame);
    for (const listener of this.frameListeners) listener(data);
  }
  serverClose(code: number, reason = ''): void {
    this.isOpen = false;
    for (const listener of [...this.closeListeners]) listener({ code, reason });
    this.closeListeners.clear();
  }
  sentOfType(type: string): Record<string, unknown>[] {
    return this.sent.filter((f): f is Record<string, unknown> => (f as { type?: string }).type === type);
  }
}

export class FakeAudio implements SessionAudio {
  readonly log: string[] = [];
  readonly enqueued: Int16Array[] = [];
  inputLevel = 0;
  outputLevel = 0;
  micError?: Error;
  private frameListener?: (pcm: Int16Array) => void;
  private microphoneLost?: () => void;

  async openMicrophone(): Promise<void> {
    this.log.push('mic');
    if (this.micError) throw this.micError;
  }
  async start(sampleRate: number): Promise<void> {
    this.log.push(`start:${sampleRate}`);
  }
  onFrame(listener: (pcm: Int16Array) => void): () => void {
    this.frameListener = listener;
    return () => (this.frameListener = undefined);
  }
  onMicrophoneLost(listener: () => void): () => void {
    this.microphoneLost = listener;
    return () => (this.microphoneLost = undefined);
  }
  enqueue(pcm: Int16Array): void {
    this.enqueued.push(pcm);
  }
  interrupt(): void {
    this.log.push('interrupt');
  }
  setMuted(muted: boolean): void {
    this.log.push(`muted:${muted}`);
  }
  async close(): Promise<void> {
    if (!this.log.includes('close')) this.log.push('close');
  }
  /** The device goes away, as when it is unplugged. */
  loseMicrophone(): void {
    this.microphoneLost?.();
  }
  /** Drives one captured frame, as the capture worklet would. */
  capture(pcm: Int16Array): void {
    this.frameListener?.(pcm);
  }
}

/** Deps whose socket opens at once; `sockets` holds each one opened. */
export function fakeDeps(audio = new FakeAudio()): SessionDeps & { audio: FakeAudio; sockets: FakeSocket[]; refuse?: Error } {
  const deps = {
    audio,
    sockets: [] as FakeSocket[],
    refuse: undefined as Error | undefined,
    createAudio: () => audio,
    openSocket: async (url: string) => {
      if (deps.refuse) throw deps.refuse;
      const socket = new FakeSocket(url);
      deps.sockets.push(socket);
      return socket;
    },
  };
  return deps;
}

/** Resolves after pending promise callbacks have run. */
export const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
