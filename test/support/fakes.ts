/** Fakes for unit tests of VoiceSession alone; everything user-visible is also proven end to end. */
import { VoiceAgentError } from '../../src/errors.js';
import type { SocketClose } from '../../src/transport/close-codes.js';
import type { PlaybackEvent } from '../../src/audio/audio-engine.js';
import type { SessionAudio, SessionDeps, SessionSocket } from '../../src/session/ports.js';

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
  /** Marks the session placed, oldest first, until the "player" reaches them. */
  readonly marks: (() => void)[] = [];
  private frameListener?: (pcm: Int16Array) => void;
  private microphoneLost?: () => void;
  private playbackListener?: (event: PlaybackEvent) => void;
  private suspendListener?: (suspended: boolean) => void;
  private deviceLost?: (error: VoiceAgentError) => void;
  /** What `setInputDevice` rejects with, if anything. */
  deviceError?: Error;

  async openMicrophone(): Promise<void> {
    this.log.push('mic');
    if (this.micError) throw this.micError;
  }
  /** What `start()` waits for before it resolves, if anything: an audio graph that takes its time. */
  startGate?: Promise<void>;
  async start(sampleRate: number): Promise<void> {
    this.log.push(`start:${sampleRate}`);
    await this.startGate;
  }
  onFrame(listener: (pcm: Int16Array) => void): () => void {
    this.frameListener = listener;
    return () => (this.frameListener = undefined);
  }
  onMicrophoneLost(listener: () => void): () => void {
    this.microphoneLost = listener;
    return () => (this.microphoneLost = undefined);
  }
  onPlayback(listener: (event: PlaybackEvent) => void): () => void {
    this.playbackListener = listener;
    return () => (this.playbackListener = undefined);
  }
  onSuspend(listener: (suspended: boolean) => void): () => void {
    this.suspendListener = listener;
    return () => (this.suspendListener = undefined);
  }
  onDeviceLost(listener: (error: VoiceAgentError) => void): () => void {
    this.deviceLost = listener;
    return () => (this.deviceLost = undefined);
  }
  async setInputDevice(id: string): Promise<void> {
    this.log.push(`input:${id}`);
    if (this.deviceError) throw this.deviceError;
  }
  async setOutputDevice(id: string): Promise<void> {
    this.log.push(`output:${id}`);
  }
  enqueue(pcm: Int16Array): void {
    this.enqueued.push(pcm);
  }
  endReply(): void {
    this.log.push('end-reply');
  }
  mark(reached: () => void): void {
    this.marks.push(reached);
  }
  interrupt(): void {
    this.log.push('interrupt');
    this.marks.length = 0;
  }
  resume(): void {
    this.log.push('resume');
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
  /** The chosen device went away and the default one took over, as the engine reports it. */
  loseDevice(device: 'microphone' | 'speaker'): void {
    this.deviceLost?.(new VoiceAgentError('device-lost', `The chosen ${device} is gone.`, { fatal: false, reason: device }));
  }
  /** The player reaches the oldest `count` marks. */
  reachMarks(count = this.marks.length): void {
    for (const reached of this.marks.splice(0, count)) reached();
  }
  /** The player's edges and reply reports, as the playback worklet would send them. */
  playback(event: PlaybackEvent): void {
    this.playbackListener?.(event);
  }
  /** The browser suspends (or resumes) the context. */
  suspend(suspended: boolean): void {
    this.suspendListener?.(suspended);
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
