import { AudioEngine, type PlaybackEvent } from '../audio/audio-engine.js';
import { VoiceAgentError, isAbortError, toVoiceAgentError } from '../errors.js';
import type { AgentEvent, ClientCommand, ProtocolAdapter } from '../protocol/agent-events.js';
import { atomsAdapter } from '../protocol/atoms/atoms-adapter.js';
import { MAX_TEXT_LENGTH } from '../protocol/atoms/call-facts.js';
import { closeOutcome, type SocketClose } from '../transport/close-codes.js';
import { SocketTransport } from '../transport/socket-transport.js';
import type { SessionAudio, SessionConfig, SessionDeps, SessionEvent, SessionListener, SessionSocket } from './ports.js';
import type { ToolRunner } from './tool-runner.js';
import { INITIAL_SNAPSHOT, type ConnectPhase, type DisconnectReason, type SessionInfo, type SessionSnapshot, type SessionStatus } from './session-types.js';
import { isAgentSocketUrl } from './call-config.js';
import { MicUplink } from './mic-uplink.js';
import { mayRetry, reconnectDelay, reconnectPolicy, waitToRetry, type ReconnectPolicy } from './reconnect.js';
import { requestCredentials } from './token.js';
import { TranscriptLog, clampText, type TranscriptUpdate } from './transcript-log.js';

const defaultDeps: SessionDeps = {
  createAudio: (options) => AudioEngine.prepare(options),
  openSocket: (url, options) => SocketTransport.open(url, options),
};

/** About 3 s of base64 audio at 24 kHz in the socket's send buffer: beyond it, microphone frames wait. */
const MAX_BUFFERED_BYTES = 192 * 1024;
/** Microphone frames (20 ms each) that may wait for a full socket before the oldest is dropped. */
const MAX_QUEUED_FRAMES = 10;
const PROTOCOL_ERROR_INTERVAL_MS = 1000;
/** Agent captions held back for their audio, at most (a long reply sent word by word, far ahead): beyond, the oldest shows at once. */
export const MAX_WAITING_CAPTIONS = 200;

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
  private _snapshotValue: SessionSnapshot = INITIAL_SNAPSHOT;
  private readonly _listeners = new Set<SessionListener>();
  private readonly _adapter: ProtocolAdapter;
  private _abort?: AbortController;
  private _audio?: SessionAudio;
  private _socket?: SessionSocket;
  /** The call's listeners (audio), detached when it ends. */
  private _detachers: (() => void)[] = [];
  /** The current socket's listeners, detached when it ends or is replaced by a reconnect. */
  private _socketDetachers: (() => void)[] = [];
  private _pendingStart?: PendingStart;
  private _starting?: Promise<void>;
  private _ending?: Promise<void>;
  private _connected = false;
  /** The connection dropped after the agent's session began, while the audio graph was still starting: restored once it has. */
  private _lostWhileStarting?: VoiceAgentError;
  private _connectedAt = 0;
  private _serverEndReason?: string;
  private readonly _transcript = new TranscriptLog();
  /** Agent transcript updates waiting for the audio they belong to to be heard. */
  private _captions: Extract<AgentEvent, { type: 'transcript' }>[] = [];
  /** Agent audio may still be queued (sent since the last barge-in or played-out reply). */
  private _audioQueued = false;
  private _lastProtocolErrorAt = -Infinity;
  private _uplink?: MicUplink;
  private _reportedSlow = false;
  /** How a dropped connection comes back; undefined: it does not (the call ends). */
  private readonly _reconnect?: ReconnectPolicy;
  /** The page's client tools as last set (checked when declared). */
  private _toolDefinitions: unknown;
  /** The tool runner, loaded when the page has tools or the agent calls one (undefined if it could not load); and once it is there. */
  private _toolRunner?: Promise<ToolRunner | undefined>;
  private _toolsLoaded?: ToolRunner;

  constructor(
    private readonly _config: SessionConfig,
    private readonly _deps: SessionDeps = defaultDeps,
  ) {
    this._adapter = _config.adapter ?? atomsAdapter;
    this._snapshotValue = { ...INITIAL_SNAPSHOT, muted: _config.muted ?? false };
    this._toolDefinitions = _config.tools;
    if (_config.reconnect !== false) this._reconnect = reconnectPolicy(_config.reconnect);
  }

  get snapshot(): SessionSnapshot {
    return this._snapshotValue;
  }

  get inputLevel(): number {
    return this._audio?.inputLevel ?? 0;
  }

  get outputLevel(): number {
    return this._audio?.outputLevel ?? 0;
  }

  /** Microphone frames of this call dropped because the socket could not keep up. */
  get framesDropped(): number {
    return this._uplink?.dropped ?? 0;
  }

  subscribe(listener: SessionListener): () => void {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  /** Connects. A second call while connecting returns the same promise; it never throws. */
  start(): Promise<void> {
    if (this._starting) return this._starting;
    if (this._snapshotValue.status !== 'disconnected') return Promise.resolve();
    this._starting = this._connect().finally(() => (this._starting = undefined));
    return this._starting;
  }

  /** Ends the call: the microphone stops at once, then the server is asked to close. Never throws. */
  stop(): Promise<void> {
    return this._end('client_requested', undefined, this._snapshotValue.status === 'connected');
  }

  /** Sends typed text to the agent; it joins the transcript as a user turn. False when not connected. */
  sendText(text: string): boolean {
    const trimmed = text.trim().slice(0, MAX_TEXT_LENGTH);
    if (!trimmed || this._snapshotValue.status !== 'connected' || !this._socket) return false;
    if (!this._socket.send(this._adapter.encode({ type: 'text', text: trimmed }))) return false;
    this._transcribe({ role: 'user', text: trimmed, final: true, merge: 'replace' }, true);
    return true;
  }

  /** Resumes audio the browser suspended; call it from a user gesture (a tap). */
  resumeAudio(): void {
    this._audio?.resume();
  }

  /**
   * Switches the call's microphone (`input`) or speaker (`output`); `''` is the default device. The
   * session goes on; a device that cannot be used is reported, non-fatally.
   */
  setDevice(kind: 'input' | 'output', id: string): void {
    const audio = this._audio;
    (kind === 'input' ? audio?.setInputDevice(id) : audio?.setOutputDevice(id))?.catch((error: unknown) => {
      const { code, message, reason } = toVoiceAgentError(error, 'mic-unavailable');
      this._emit({ type: 'error', error: new VoiceAgentError(code, message, { fatal: false, reason }) });
    });
  }

  /**
   * Replaces the page's client tools. During a call the whole set is declared again at once (an empty
   * set clears them); before the session starts, it is declared when it does.
   */
  setTools(tools: unknown): void {
    this._toolDefinitions = tools;
    if (this._snapshotValue.info && this._toolsLive()) this._withTools((runner) => runner.declare(tools, true));
  }

  setMuted(muted: boolean): void {
    if (this._snapshotValue.muted === muted) return;
    this._update({ muted });
    this._audio?.setMuted(muted);
  }

  private async _connect(): Promise<void> {
    const abort = (this._abort = new AbortController());
    const { signal } = abort;
    const { _config: config } = this;
    this._transcript.clear();
    this._captions = [];
    this._audioQueued = false;
    this._serverEndReason = undefined;
    this._lostWhileStarting = undefined;
    this._reportedSlow = false;
    this._uplink = new MicUplink(
      { maxBufferedBytes: config.maxBufferedBytes ?? MAX_BUFFERED_BYTES, maxQueuedFrames: MAX_QUEUED_FRAMES, onSlow: this._handleSlowUplink },
      (pcm) => this._adapter.encode({ type: 'audio', pcm }),
    );
    this._update({
      transcript: this._transcript.entries,
      error: undefined,
      info: undefined,
      speaking: false,
      suspended: false,
      networkSlow: false,
      durationMs: undefined,
      acceptedTools: INITIAL_SNAPSHOT.acceptedTools,
    });
    this._setStatus('connecting');
    try {
      // A status listener may have stopped the session already; then nothing may be opened.
      signal.throwIfAborted();
      // No await before this point: the AudioContext is created inside the user's gesture.
      if (config.mode === 'webcall') {
        this._audio = this._deps.createAudio({ ...config.audio, muted: this._snapshotValue.muted });
        this._detachers.push(this._audio.onDeviceLost((error) => this._emit({ type: 'error', error })));
        this._setPhase('microphone');
        await this._audio.openMicrophone(signal);
        signal.throwIfAborted();
        const audio = this._audio;
        this._detachers.push(
          audio.onMicrophoneLost(this._handleMicrophoneLost),
          audio.onPlayback(this._handlePlayback),
          audio.onSuspend((suspended) => {
            this._update({ suspended });
            this._emit({ type: 'suspended', suspended });
          }),
        );
      }
      this._setPhase('agent');
      // The page's tools load beside the token and the socket, to be declared before `connect`.
      const tools = this._hasTools() ? this._runner() : undefined;
      const info = await this._openConnection(signal);
      signal.throwIfAborted();
      if (tools) {
        const runner = await tools;
        signal.throwIfAborted();
        runner?.declare(this._toolDefinitions, false);
      }
      if (this._audio) {
        await this._audio.start(info.sampleRate, signal);
        signal.throwIfAborted();
        this._detachers.push(this._audio.onFrame(this._sendAudio));
      }
      this._connected = true;
      this._connectedAt = performance.now();
      this._setStatus('connected');
      this._emit({ type: 'connect', info });
      const lost = this._lostWhileStarting;
      this._lostWhileStarting = undefined;
      if (lost && !this._ending && this._reconnect) void this._restore(this._reconnect, lost);
    } catch (error) {
      // An abort means stop() or a failure elsewhere is already ending the session.
      if (signal.aborted || isAbortError(error)) return;
      await this._end('error', toVoiceAgentError(error, 'socket-failed'));
    }
  }

  /**
   * One connection of the call: a fresh token from the token endpoint (a token is single-use), the
   * agent socket, and the agent's `session.created`. Throws if any of them fails.
   */
  private async _openConnection(signal: AbortSignal): Promise<SessionInfo> {
    const { _config: config } = this;
    const request = { ...(config.agentId ? { agent_id: config.agentId } : {}), mode: config.mode, variables: config.variables };
    const credentials = await requestCredentials(config.tokenProvider, request, signal);
    signal.throwIfAborted();
    const serverUrl = credentials.url ?? config.serverUrl;
    if (!isAgentSocketUrl(serverUrl)) {
      throw new VoiceAgentError('config-invalid', `The agent server URL must be a wss: URL, or ws: on localhost (got "${serverUrl}").`);
    }
    const { url, protocols } = this._adapter.connection(serverUrl, credentials.token);
    const socket = await this._deps.openSocket(url, { ...(protocols ? { protocols } : {}), signal });
    if (signal.aborted) {
      socket.close();
      signal.throwIfAborted();
    }
    this._socket = socket;
    const started = this._waitForSessionStart();
    this._socketDetachers.push(socket.onFrame(this._handleFrame), socket.onClose(this._handleClose));
    return started;
  }

  /** Forgets the current socket (closing it if it is still open) and what waited to go out on it. */
  private _dropSocket(): void {
    for (const detach of this._socketDetachers) detach();
    this._socketDetachers = [];
    this._socket?.close(1000);
    this._socket = undefined;
    this._uplink?.clear();
  }

  /**
   * The connection dropped during the call: the call goes on over a new one (a fresh token, a new
   * session on the agent's server), the microphone and audio staying open, after a wait that grows
   * with each try and pauses while the browser is offline. What was being said is settled and the
   * agent's queued audio dropped: that session is gone. Ends the call with `connection-lost` when the
   * tries run out, and at once after a failure another try would not mend (see `mayRetry`).
   */
  private async _restore(policy: ReconnectPolicy, lost: VoiceAgentError): Promise<void> {
    const signal = this._abort!.signal;
    this._dropSocket();
    this._toolsLoaded?.abandon();
    this._audioQueued = false;
    this._audio?.interrupt();
    this._releaseCaptions();
    this._setSpeaking(false);
    this._settleTranscript();
    this._setStatus('reconnecting');
    const sampleRate = this._snapshotValue.info?.sampleRate;
    for (let attempt = 1; attempt <= policy.tries; attempt++) {
      try {
        await waitToRetry(reconnectDelay(policy, attempt), signal, (offline) => {
          this._update({ offline });
          this._emit({ type: 'offline', offline });
        });
        this._update({ reconnectAttempt: attempt });
        this._emit({ type: 'reconnecting', attempt });
        const info = await this._openConnection(signal);
        signal.throwIfAborted();
        if (this._audio && info.sampleRate !== sampleRate) {
          throw new VoiceAgentError('server-error', `The agent's new session runs at ${info.sampleRate} Hz, not the call's ${sampleRate} Hz.`);
        }
        this._transcribeMark();
        this._setStatus('connected');
        if (this._hasTools()) this._withTools((runner) => runner.declare(this._toolDefinitions, false));
        this._emit({ type: 'reconnected', info });
        return;
      } catch (error) {
        if (signal.aborted || isAbortError(error)) return;
        this._dropSocket();
        const failure = toVoiceAgentError(error, 'socket-failed');
        // The agent's server closing the new session itself (`session.closed`) is an answer, not a fault.
        if (this._serverEndReason !== undefined || !mayRetry(failure)) return this._end('error', failure);
      }
    }
    const code = lost.closeCode === undefined ? '' : ` (code ${lost.closeCode})`;
    const message = `The connection to the agent was lost${code}, and ${policy.tries} ${policy.tries === 1 ? 'try' : 'tries'} to restore it failed.`;
    return this._end('error', new VoiceAgentError('connection-lost', message, { closeCode: lost.closeCode }));
  }

  private _waitForSessionStart(): Promise<SessionInfo> {
    const timeoutMs = this._config.sessionTimeoutMs ?? 10_000;
    return new Promise<SessionInfo>((resolve, reject) => {
      const timer = setTimeout(
        () => settle(new VoiceAgentError('session-timeout', `The agent did not start the session within ${timeoutMs} ms.`)),
        timeoutMs,
      );
      const settle = (result: SessionInfo | VoiceAgentError) => {
        clearTimeout(timer);
        this._pendingStart = undefined;
        if (result instanceof VoiceAgentError) reject(result);
        else resolve(result);
      };
      this._pendingStart = { resolve: settle, reject: settle };
    });
  }

  /**
   * The one way out: closes everything and always reaches `disconnected`, whatever fails on the way.
   * `graceful`: stop the microphone, send the protocol's close and wait (bounded) for the server.
   */
  private _end(reason: DisconnectReason, error?: VoiceAgentError, graceful = false): Promise<void> {
    if (this._ending) return this._ending;
    if (this._snapshotValue.status === 'disconnected') return Promise.resolve();
    this._ending = this._teardown(reason, error, graceful).finally(() => (this._ending = undefined));
    return this._ending;
  }

  /**
   * The one path by which a failure, or the server, ends the call: a start still waiting for the agent
   * fails with `startError` (its own catch then ends the session); a call under way ends with `reason`
   * and `error` (none for a clean end). Ending twice is harmless: `_end` runs once.
   */
  private _finish(reason: DisconnectReason, error?: VoiceAgentError, startError = error): void {
    if (this._pendingStart && startError) this._pendingStart.reject(startError);
    else void this._end(reason, error);
  }

  private async _teardown(reason: DisconnectReason, error: VoiceAgentError | undefined, graceful: boolean): Promise<void> {
    const wasConnected = this._connected;
    this._connected = false;
    this._abort?.abort();
    this._pendingStart?.reject(new VoiceAgentError('socket-failed', 'The session ended before it started.'));
    this._setStatus('disconnecting');
    if (error) {
      this._update({ error });
      this._emit({ type: 'error', error });
    }
    this._toolsLoaded?.abandon();
    this._uplink?.clear();
    const { _audio: audio, _socket: socket } = this;
    try {
      if (graceful && socket?.isOpen) {
        await audio?.close();
        await this._closeGracefully(socket);
      }
    } finally {
      for (const detach of [...this._detachers, ...this._socketDetachers]) detach();
      this._detachers = [];
      this._socketDetachers = [];
      this._socket = this._audio = undefined;
      this._releaseCaptions();
      this._settleTranscript();
      socket?.close(1000);
      await audio?.close().catch(() => {});
      this._update({ speaking: false, suspended: false, networkSlow: false, ...(wasConnected ? { durationMs: performance.now() - this._connectedAt } : {}) });
      this._setStatus('disconnected');
      if (wasConnected) this._emit({ type: 'disconnect', reason: this._serverEndReason ?? reason });
    }
  }

  private _closeGracefully(socket: SessionSocket): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this._config.closeTimeoutMs ?? 2000);
      const detach = socket.onClose(done);
      function done() {
        clearTimeout(timer);
        detach();
        resolve();
      }
      if (!socket.send(this._adapter.encode({ type: 'close' }))) done();
    });
  }

  private readonly _handleFrame = (frame: string | ArrayBuffer): void => {
    for (const event of this._adapter.decode(frame)) this._handleEvent(event);
  };

  private _handleEvent(event: AgentEvent): void {
    switch (event.type) {
      case 'session-started': {
        const info: SessionInfo = { sessionId: event.sessionId, callId: event.callId, sampleRate: event.sampleRate };
        this._update({ info });
        this._pendingStart?.resolve(info);
        break;
      }
      case 'audio':
        this._audioQueued = true;
        this._audio?.enqueue(event.pcm);
        break;
      case 'transcript':
        // The agent's words appear as its voice reaches them, not when the server sends them ahead.
        // The user speaking ends the wait: their turn follows whatever the agent said before it.
        if (event.role === 'assistant' && this._audio && this._audioQueued) {
          // Bounded: when full, the oldest caption shows now and its mark is left to the newest.
          if (this._captions.length >= MAX_WAITING_CAPTIONS) this._releaseCaptions(1);
          else this._audio.mark(() => this._releaseCaptions(1));
          this._captions.push({ ...event, text: clampText(event.text) });
        } else {
          this._releaseCaptions();
          this._transcribe(event);
        }
        break;
      case 'interruption':
        this._audioQueued = false;
        this._audio?.interrupt();
        this._releaseCaptions();
        this._setSpeaking(false);
        break;
      case 'agent-speaking':
        // In a voice call `speaking` follows what is audible (the player's edges); the server's
        // events run ahead of the sound. Its "stopped" says the reply's audio is complete.
        if (!this._audio) this._setSpeaking(event.speaking);
        else if (!event.speaking) this._audio.endReply();
        break;
      case 'session-ended':
        this._serverEndReason = event.reason;
        this._finish(event.reason, undefined, new VoiceAgentError('socket-failed', `The agent ended the session before it started (${event.reason}).`));
        break;
      case 'error':
        this._handleServerError(event.code, event.message, event.fatal);
        break;
      case 'malformed':
        this._reportProtocolError(event.message);
        break;
      case 'tools-accepted':
        this._update({ acceptedTools: Object.freeze([...event.names]) });
        this._emit({ type: 'tools-accepted', names: this._snapshotValue.acceptedTools });
        break;
      case 'tools-rejected': {
        const message = `The agent refused the client tools (${event.code}): ${event.message}`;
        this._emit({ type: 'error', error: new VoiceAgentError('tools-rejected', message, { fatal: false }) });
        break;
      }
      case 'tool-call':
        this._withTools((runner) => runner.call(event));
        break;
      default:
        assertNever(event);
    }
  }

  /** Runs `use` with the session's tool runner: at once when its module is there, else once it is. */
  private _withTools(use: (runner: ToolRunner) => void): void {
    if (this._toolsLoaded) use(this._toolsLoaded);
    else void this._runner().then((runner) => runner && use(runner));
  }

  /**
   * The session's tool runner, loading its module on first use. A module that cannot load (a site
   * that serves voice-agent.js without the files beside it) is reported, and tried again next time.
   */
  private _runner(): Promise<ToolRunner | undefined> {
    return (this._toolRunner ??= import('./tool-runner.js').then(
      ({ ToolRunner: Runner }) => {
        const send = (command: ClientCommand): boolean => {
          if (!this._toolsLive()) return false;
          this._socket!.send(this._adapter.encode(command));
          return true;
        };
        return (this._toolsLoaded = new Runner({
          send,
          live: () => this._toolsLive(),
          toolCall: (call, decline) => this._emit({ type: 'tool-call', call, decline }),
          toolResult: (result) => this._emit({ type: 'tool-result', result }),
          warn: (error) => this._emit({ type: 'error', error }),
        }));
      },
      (cause: unknown) => {
        this._toolRunner = undefined;
        const message = 'The client tools could not be loaded: serve the files built beside voice-agent.js together.';
        this._emit({ type: 'error', error: new VoiceAgentError('config-invalid', message, { fatal: false, cause }) });
        return undefined;
      },
    ));
  }

  /** Whether the page has client tools to declare. */
  private _hasTools(): boolean {
    const definitions = this._toolDefinitions;
    return definitions !== undefined && definitions !== null && (typeof definitions !== 'object' || Object.keys(definitions).length > 0);
  }

  private _toolsLive(): boolean {
    return !!this._socket && !!this._abort && !this._abort.signal.aborted;
  }

  private readonly _handlePlayback = (event: PlaybackEvent): void => {
    if (event.type === 'playing') {
      if (event.playing) this._setSpeaking(true);
      return;
    }
    this._setSpeaking(false);
    this._emit(event);
  };

  /** Shows the first `count` waiting agent captions (all of them by default). */
  private _releaseCaptions(count = Infinity): void {
    for (const event of this._captions.splice(0, count)) this._transcribe(event);
  }

  private _handleServerError(code: string, message: string, fatal: boolean): void {
    const error = new VoiceAgentError('server-error', `The agent server reported ${code}: ${message}`, { fatal });
    if (fatal) this._finish('error', error);
    else this._emit({ type: 'error', error });
  }

  private _reportProtocolError(message: string): void {
    const now = performance.now();
    if (now - this._lastProtocolErrorAt < PROTOCOL_ERROR_INTERVAL_MS) return;
    this._lastProtocolErrorAt = now;
    this._emit({ type: 'error', error: new VoiceAgentError('protocol-error', `Skipped a frame from the agent: ${message}`, { fatal: false }) });
  }

  private readonly _handleClose = (close: SocketClose): void => {
    const stage = this._pendingStart ? 'starting' : 'live';
    const { reason, error } = closeOutcome(close, stage, this._serverEndReason);
    // Only a connection lost once the agent's session began is restored: a normal close, the server's
    // 4000 and its `session.closed` are answers, and a failure to start is the start's (or the try's)
    // to handle. Lost while the audio graph still starts (its worklets may be a slow download away),
    // the call begins all the same, and is restored from there.
    if (stage === 'live' && !this._ending && error?.code === 'connection-lost' && this._reconnect) {
      if (this._connected) {
        void this._restore(this._reconnect, error);
      } else {
        this._lostWhileStarting = error;
        this._dropSocket();
      }
      return;
    }
    this._finish(reason, error);
  };

  private readonly _handleMicrophoneLost = (): void => {
    const error = new VoiceAgentError('mic-unavailable', 'The microphone stopped during the call (unplugged, or access withdrawn).', {
      reason: 'ended',
    });
    this._finish('error', error);
  };

  private readonly _sendAudio = (pcm: Int16Array): void => {
    const { _socket: socket } = this;
    // Reconnecting, or between the socket's close and its close event: there is no one to hear it.
    if (!socket?.isOpen || this._snapshotValue.status !== 'connected') return;
    this._uplink?.push(pcm, socket);
  };

  /** The uplink fell behind (microphone audio is being dropped) or caught up again. Reported once a call. */
  private readonly _handleSlowUplink = (slow: boolean): void => {
    this._update({ networkSlow: slow });
    this._emit({ type: 'network-slow', slow });
    if (!slow || this._reportedSlow) return;
    this._reportedSlow = true;
    const message = 'The network is too slow for the call: the oldest microphone audio was dropped, so the agent may miss some words.';
    this._emit({ type: 'error', error: new VoiceAgentError('network-slow', message, { fatal: false }) });
  };

  /** Marks in the transcript where the call went on in a new session after a reconnect. */
  private _transcribeMark(): void {
    const entry = this._transcript.mark('reconnected');
    this._update({ transcript: this._transcript.entries });
    this._emit({ type: 'transcript', entry });
  }

  /** Applies a transcript update (a `separate` one is an entry of its own) and tells subscribers. */
  private _transcribe(update: TranscriptUpdate, separate = false): void {
    const entry = this._transcript.apply(update, separate);
    if (!entry) return;
    this._update({ transcript: this._transcript.entries });
    this._emit({ type: 'transcript', entry });
  }

  /** A call that ends leaves no turn in progress: whatever a live entry holds is what was said. */
  private _settleTranscript(): void {
    const settled = this._transcript.settle();
    if (settled.length === 0) return;
    this._update({ transcript: this._transcript.entries });
    for (const entry of settled) this._emit({ type: 'transcript', entry });
  }

  private _setSpeaking(speaking: boolean): void {
    if (this._snapshotValue.speaking === speaking) return;
    this._update({ speaking });
    this._emit({ type: 'speaking', speaking });
  }

  private _setPhase(phase: ConnectPhase): void {
    if (this._snapshotValue.status !== 'connecting' || this._snapshotValue.phase === phase) return;
    this._update({ phase });
    this._emit({ type: 'phase', phase });
  }

  private _setStatus(status: SessionStatus): void {
    const previous = this._snapshotValue.status;
    if (previous === status) return;
    this._update({ status, phase: undefined, reconnectAttempt: status === 'reconnecting' ? 0 : undefined, offline: undefined });
    this._emit({ type: 'status', status, previous });
  }

  private _update(patch: Partial<SessionSnapshot>): void {
    this._snapshotValue = Object.freeze({ ...this._snapshotValue, ...patch });
  }

  private _emit(event: SessionEvent): void {
    for (const listener of this._listeners) listener(event, this._snapshotValue);
  }
}

function assertNever(_event: never): void {}
