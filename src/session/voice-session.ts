import { AudioEngine, type AudioEngineOptions } from '../audio/audio-engine.js';
import { VoiceAgentError, isAbortError, toVoiceAgentError } from '../errors.js';
import type { AgentEvent, ProtocolAdapter, TranscriptRole } from '../protocol/agent-events.js';
import { atomsAdapter } from '../protocol/atoms/atoms-adapter.js';
import { SocketTransport, type SocketClose, type SocketOpenOptions } from '../transport/socket-transport.js';
import {
  INITIAL_SNAPSHOT,
  type CallMode,
  type CallVariables,
  type DisconnectReason,
  type SessionInfo,
  type SessionSnapshot,
  type SessionStatus,
  type TranscriptEntry,
} from './session-types.js';
import { isWebSocketUrl, type SessionCredentials, type TokenProvider, type TokenRequest } from './token.js';

export interface SessionConfig {
  agentId: string;
  mode: CallMode;
  variables: CallVariables;
  /** Default agent socket URL; the token endpoint's `url` overrides it. */
  serverUrl: string;
  tokenProvider: TokenProvider;
  adapter?: ProtocolAdapter;
  audio?: Omit<AudioEngineOptions, 'muted'>;
  muted?: boolean;
  /** How long the agent may take to announce the session once the socket is open. */
  sessionTimeoutMs?: number;
  /** How long `stop()` waits for the server to confirm the close before closing the socket itself. */
  closeTimeoutMs?: number;
}

/** The parts of AudioEngine the session uses. */
export interface SessionAudio {
  openMicrophone(signal?: AbortSignal): Promise<void>;
  start(sampleRate: number, signal?: AbortSignal): Promise<void>;
  onFrame(listener: (pcm: Int16Array) => void): () => void;
  onMicrophoneLost(listener: () => void): () => void;
  enqueue(pcm: Int16Array): void;
  interrupt(): void;
  setMuted(muted: boolean): void;
  close(): Promise<void>;
  readonly inputLevel: number;
  readonly outputLevel: number;
}

/** The parts of SocketTransport the session uses. */
export interface SessionSocket {
  readonly isOpen: boolean;
  readonly bufferedAmount: number;
  send(frame: string | ArrayBuffer): boolean;
  onFrame(listener: (frame: string | ArrayBuffer) => void): () => void;
  onClose(listener: (close: SocketClose) => void): () => void;
  close(code?: number, reason?: string): void;
}

/** Platform seams: replaced in unit tests, real in the browser. */
export interface SessionDeps {
  createAudio(options: AudioEngineOptions): SessionAudio;
  openSocket(url: string, options: SocketOpenOptions): Promise<SessionSocket>;
}

const defaultDeps: SessionDeps = {
  createAudio: (options) => AudioEngine.prepare(options),
  openSocket: (url, options) => SocketTransport.open(url, options),
};

export type SessionEvent =
  | { type: 'status'; status: SessionStatus; previous: SessionStatus }
  | { type: 'transcript'; entry: TranscriptEntry }
  | { type: 'speaking'; speaking: boolean }
  | { type: 'error'; error: VoiceAgentError }
  | { type: 'connect'; info: SessionInfo }
  | { type: 'disconnect'; reason: DisconnectReason };

export type SessionListener = (event: SessionEvent, snapshot: SessionSnapshot) => void;

const MAX_TRANSCRIPT_ENTRIES = 500;
const MAX_TEXT_LENGTH = 4000;
/** About 3 s of base64 audio at 24 kHz: beyond it, mic frames are dropped rather than queued. */
const MAX_BUFFERED_BYTES = 192 * 1024;
const PROTOCOL_ERROR_INTERVAL_MS = 1000;

interface PendingStart {
  resolve(info: SessionInfo): void;
  reject(error: VoiceAgentError): void;
}

/**
 * One conversation with an agent, from the click to the last byte: microphone, token, socket,
 * protocol handshake, audio both ways, transcript, barge-in and teardown. Holds the state the view
 * renders (`snapshot`) and tells subscribers what changed. No Lit, no DOM UI, no wire JSON.
 *
 * `start()` must be called from a user gesture: it creates the AudioContext before its first await.
 * Every path out of `connecting`/`connected` ends in `disconnected`, with everything closed.
 */
export class VoiceSession {
  private snapshotValue: SessionSnapshot = INITIAL_SNAPSHOT;
  private readonly listeners = new Set<SessionListener>();
  private readonly adapter: ProtocolAdapter;
  private abort?: AbortController;
  private audio?: SessionAudio;
  private socket?: SessionSocket;
  private detachers: (() => void)[] = [];
  private pendingStart?: PendingStart;
  private starting?: Promise<void>;
  private ending?: Promise<void>;
  private connected = false;
  private serverEndReason?: string;
  /** Index in the transcript of each role's turn in progress. */
  private readonly liveEntries = new Map<TranscriptRole, number>();
  private lastProtocolErrorAt = -Infinity;
  private droppedFrames = 0;

  constructor(
    private readonly config: SessionConfig,
    private readonly deps: SessionDeps = defaultDeps,
  ) {
    this.adapter = config.adapter ?? atomsAdapter;
    this.snapshotValue = { ...INITIAL_SNAPSHOT, muted: config.muted ?? false };
  }

  get snapshot(): SessionSnapshot {
    return this.snapshotValue;
  }

  get inputLevel(): number {
    return this.audio?.inputLevel ?? 0;
  }

  get outputLevel(): number {
    return this.audio?.outputLevel ?? 0;
  }

  /** Microphone frames dropped because the socket could not keep up. */
  get framesDropped(): number {
    return this.droppedFrames;
  }

  subscribe(listener: SessionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Connects. A second call while connecting returns the same promise; it never throws. */
  start(): Promise<void> {
    if (this.starting) return this.starting;
    if (this.snapshotValue.status !== 'disconnected') return Promise.resolve();
    this.starting = this.connect().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** Ends the call: the microphone stops at once, then the server is asked to close. Never throws. */
  stop(): Promise<void> {
    return this.end('client_requested', undefined, this.snapshotValue.status === 'connected');
  }

  /** Sends typed text to the agent; it joins the transcript as a user turn. False when not connected. */
  sendText(text: string): boolean {
    const trimmed = text.trim().slice(0, MAX_TEXT_LENGTH);
    if (!trimmed || this.snapshotValue.status !== 'connected' || !this.socket) return false;
    if (!this.socket.send(this.adapter.encode({ type: 'text', text: trimmed }))) return false;
    this.upsertTranscript({ role: 'user', text: trimmed, final: true, merge: 'replace' }, true);
    return true;
  }

  setMuted(muted: boolean): void {
    if (this.snapshotValue.muted === muted) return;
    this.update({ muted });
    this.audio?.setMuted(muted);
  }

  private async connect(): Promise<void> {
    const abort = (this.abort = new AbortController());
    const { signal } = abort;
    const { config } = this;
    this.liveEntries.clear();
    this.serverEndReason = undefined;
    this.droppedFrames = 0;
    this.update({ transcript: INITIAL_SNAPSHOT.transcript, error: undefined, info: undefined, speaking: false });
    this.setStatus('connecting');
    try {
      // A status listener may have stopped the session already; then nothing may be opened.
      signal.throwIfAborted();
      // No await before this point: the AudioContext is created inside the user's gesture.
      if (config.mode === 'webcall') {
        this.audio = this.deps.createAudio({ ...config.audio, muted: this.snapshotValue.muted });
        await this.audio.openMicrophone(signal);
        signal.throwIfAborted();
        this.detachers.push(this.audio.onMicrophoneLost(this.handleMicrophoneLost));
      }
      const request = { ...(config.agentId ? { agent_id: config.agentId } : {}), mode: config.mode, variables: config.variables };
      const credentials = await this.fetchCredentials(request, signal);
      signal.throwIfAborted();
      const serverUrl = credentials.url ?? config.serverUrl;
      if (!isWebSocketUrl(serverUrl)) {
        throw new VoiceAgentError('config-invalid', `The agent server URL must start with wss:// or ws:// (got "${serverUrl}").`);
      }
      const { url, protocols } = this.adapter.connection(serverUrl, credentials.token);
      const socket = await this.deps.openSocket(url, { ...(protocols ? { protocols } : {}), signal });
      if (signal.aborted) {
        socket.close();
        signal.throwIfAborted();
      }
      this.socket = socket;
      const started = this.waitForSessionStart();
      this.detachers.push(socket.onFrame(this.handleFrame), socket.onClose(this.handleClose));
      const info = await started;
      signal.throwIfAborted();
      if (this.audio) {
        await this.audio.start(info.sampleRate, signal);
        signal.throwIfAborted();
        this.detachers.push(this.audio.onFrame(this.sendAudio));
      }
      this.connected = true;
      this.setStatus('connected');
      this.emit({ type: 'connect', info });
    } catch (error) {
      // An abort means stop() or a failure elsewhere is already ending the session.
      if (signal.aborted || isAbortError(error)) return;
      await this.end('error', toVoiceAgentError(error, 'socket-failed'));
    }
  }

  /** Any token provider's failure is a `token-failed`; so is a provider that hands over a secret key. */
  private async fetchCredentials(request: TokenRequest, signal: AbortSignal): Promise<SessionCredentials> {
    let credentials: SessionCredentials;
    try {
      credentials = await this.config.tokenProvider(request, signal);
    } catch (error) {
      throw isAbortError(error) ? error : toVoiceAgentError(error, 'token-failed');
    }
    if (typeof credentials?.token !== 'string' || credentials.token === '') {
      throw new VoiceAgentError('token-failed', 'The token provider returned no token.');
    }
    if (credentials.token.startsWith('sk_')) {
      throw new VoiceAgentError('token-failed', 'The token provider returned a secret API key (sk_…) instead of a short-lived token; it was not used.');
    }
    return credentials;
  }

  private waitForSessionStart(): Promise<SessionInfo> {
    const timeoutMs = this.config.sessionTimeoutMs ?? 10_000;
    return new Promise<SessionInfo>((resolve, reject) => {
      const timer = setTimeout(
        () => settle(new VoiceAgentError('session-timeout', `The agent did not start the session within ${timeoutMs} ms.`)),
        timeoutMs,
      );
      const settle = (result: SessionInfo | VoiceAgentError) => {
        clearTimeout(timer);
        this.pendingStart = undefined;
        if (result instanceof VoiceAgentError) reject(result);
        else resolve(result);
      };
      this.pendingStart = { resolve: settle, reject: settle };
    });
  }

  /**
   * The one way out: closes everything and always reaches `disconnected`, whatever fails on the way.
   * `graceful`: stop the microphone, send the protocol's close and wait (bounded) for the server.
   */
  private end(reason: DisconnectReason, error?: VoiceAgentError, graceful = false): Promise<void> {
    if (this.ending) return this.ending;
    if (this.snapshotValue.status === 'disconnected') return Promise.resolve();
    this.ending = this.teardown(reason, error, graceful).finally(() => (this.ending = undefined));
    return this.ending;
  }

  private async teardown(reason: DisconnectReason, error: VoiceAgentError | undefined, graceful: boolean): Promise<void> {
    const wasConnected = this.connected;
    this.connected = false;
    this.abort?.abort();
    this.pendingStart?.reject(new VoiceAgentError('socket-failed', 'The session ended before it started.'));
    this.setStatus('disconnecting');
    if (error) {
      this.update({ error });
      this.emit({ type: 'error', error });
    }
    const { audio, socket } = this;
    try {
      if (graceful && socket?.isOpen) {
        await audio?.close();
        await this.closeGracefully(socket);
      }
    } finally {
      for (const detach of this.detachers) detach();
      this.detachers = [];
      this.socket = this.audio = undefined;
      this.liveEntries.clear();
      socket?.close(1000);
      await audio?.close().catch(() => {});
      this.update({ speaking: false });
      this.setStatus('disconnected');
      if (wasConnected) this.emit({ type: 'disconnect', reason: this.serverEndReason ?? reason });
    }
  }

  private closeGracefully(socket: SessionSocket): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.config.closeTimeoutMs ?? 2000);
      const detach = socket.onClose(done);
      function done() {
        clearTimeout(timer);
        detach();
        resolve();
      }
      if (!socket.send(this.adapter.encode({ type: 'close' }))) done();
    });
  }

  private readonly handleFrame = (frame: string | ArrayBuffer): void => {
    for (const event of this.adapter.decode(frame)) this.handleEvent(event);
  };

  private handleEvent(event: AgentEvent): void {
    switch (event.type) {
      case 'session-started': {
        const info: SessionInfo = { sessionId: event.sessionId, callId: event.callId, sampleRate: event.sampleRate };
        this.update({ info });
        this.pendingStart?.resolve(info);
        break;
      }
      case 'audio':
        this.audio?.enqueue(event.pcm);
        break;
      case 'transcript':
        this.upsertTranscript(event, false);
        break;
      case 'interruption':
        this.audio?.interrupt();
        this.setSpeaking(false);
        break;
      case 'agent-speaking':
        this.setSpeaking(event.speaking);
        break;
      case 'session-ended':
        this.serverEndReason = event.reason;
        if (this.pendingStart) this.pendingStart.reject(new VoiceAgentError('socket-failed', `The agent ended the session before it started (${event.reason}).`));
        else void this.end(event.reason);
        break;
      case 'error':
        this.handleServerError(event.code, event.message, event.fatal);
        break;
      case 'malformed':
        this.reportProtocolError(event.message);
        break;
      default:
        assertNever(event);
    }
  }

  private handleServerError(code: string, message: string, fatal: boolean): void {
    const error = new VoiceAgentError('server-error', `The agent server reported ${code}: ${message}`, { fatal });
    if (!fatal) {
      this.emit({ type: 'error', error });
    } else if (this.pendingStart) {
      this.pendingStart.reject(error);
    } else {
      void this.end('error', error);
    }
  }

  private reportProtocolError(message: string): void {
    const now = performance.now();
    if (now - this.lastProtocolErrorAt < PROTOCOL_ERROR_INTERVAL_MS) return;
    this.lastProtocolErrorAt = now;
    this.emit({ type: 'error', error: new VoiceAgentError('protocol-error', `Skipped a frame from the agent: ${message}`, { fatal: false }) });
  }

  private readonly handleClose = ({ code, reason }: SocketClose): void => {
    const suffix = reason ? `: ${reason}` : '';
    if (this.pendingStart) {
      this.pendingStart.reject(
        new VoiceAgentError('socket-failed', `The agent server closed the connection before the session started (code ${code}${suffix}).`, {
          closeCode: code,
        }),
      );
      return;
    }
    if (this.ending) return;
    if (this.serverEndReason !== undefined || code === 1000) {
      void this.end(this.serverEndReason ?? 'websocket_closed');
    } else if (code === 4000) {
      void this.end('error', new VoiceAgentError('server-error', `The agent server ended the session (code 4000${suffix}).`, { closeCode: code }));
    } else {
      void this.end('error', new VoiceAgentError('connection-lost', `The connection to the agent was lost (code ${code}${suffix}).`, { closeCode: code }));
    }
  };

  private readonly handleMicrophoneLost = (): void => {
    const error = new VoiceAgentError('mic-unavailable', 'The microphone stopped during the call (unplugged, or access withdrawn).');
    if (this.pendingStart) this.pendingStart.reject(error);
    else void this.end('error', error);
  };

  private readonly sendAudio = (pcm: Int16Array): void => {
    const { socket } = this;
    if (!socket?.isOpen) return;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.droppedFrames++;
      return;
    }
    socket.send(this.adapter.encode({ type: 'audio', pcm }));
  };

  private upsertTranscript(event: { role: TranscriptRole; text: string; final: boolean; merge: 'replace' | 'append' }, local: boolean): void {
    const { role, final } = event;
    const transcript = [...this.snapshotValue.transcript];
    const index = local ? undefined : this.liveEntries.get(role);
    const previous = index === undefined ? undefined : transcript[index];
    const text = event.merge === 'append' && previous ? previous.text + event.text : event.text;
    if (previous && previous.text === text && previous.final === final) return; // nothing new to render
    const entry: TranscriptEntry = Object.freeze({ role, text, final });
    if (index === undefined) {
      transcript.push(entry);
      if (!final) this.liveEntries.set(role, transcript.length - 1);
    } else {
      transcript[index] = entry;
      if (final) this.liveEntries.delete(role);
    }
    const excess = transcript.length - MAX_TRANSCRIPT_ENTRIES;
    if (excess > 0) {
      transcript.splice(0, excess);
      for (const [liveRole, liveIndex] of this.liveEntries) {
        if (liveIndex < excess) this.liveEntries.delete(liveRole);
        else this.liveEntries.set(liveRole, liveIndex - excess);
      }
    }
    this.update({ transcript: Object.freeze(transcript) });
    this.emit({ type: 'transcript', entry });
  }

  private setSpeaking(speaking: boolean): void {
    if (this.snapshotValue.speaking === speaking) return;
    this.update({ speaking });
    this.emit({ type: 'speaking', speaking });
  }

  private setStatus(status: SessionStatus): void {
    const previous = this.snapshotValue.status;
    if (previous === status) return;
    this.update({ status });
    this.emit({ type: 'status', status, previous });
  }

  private update(patch: Partial<SessionSnapshot>): void {
    this.snapshotValue = Object.freeze({ ...this.snapshotValue, ...patch });
  }

  private emit(event: SessionEvent): void {
    for (const listener of this.listeners) listener(event, this.snapshotValue);
  }
}

function assertNever(_event: never): void {}
