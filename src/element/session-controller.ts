import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { VoiceAgentError } from '../errors.js';
import {
  VaBeforeConnectEvent,
  VaConnectEvent,
  VaDisconnectEvent,
  VaErrorEvent,
  VaReconnectedEvent,
  VaReconnectingEvent,
  VaStatusChangeEvent,
  VaToolCallEvent,
  VaToolResultEvent,
  VaTranscriptEvent,
} from '../events.js';
import type { AudioEngineOptions } from '../audio/audio-engine.js';
import { createAudioContext } from '../audio/audio-context.js';
import { refuseSecretKeys, validateBuffer, validateCallSettings, type CallSettings } from '../session/call-config.js';
import { INITIAL_SNAPSHOT, type SessionSnapshot } from '../session/session-types.js';
import type { TokenProvider } from '../session/token.js';
import type { SessionConfig, SessionEvent } from '../session/ports.js';
import type { VoiceSession } from '../session/voice-session.js';

type Engine = typeof import('../session/engine.js');
let engine: Engine | undefined;
let loadingEngine: Promise<Engine> | undefined;
let idleLoadScheduled = false;

/**
 * Loads the call engine (the session, audio, protocol and transport) once for every widget on the
 * page: when the page is idle after a widget connects, when the pointer or focus comes to one, and at
 * the latest when a call starts. A failed load is tried again.
 */
export function loadEngine(): Promise<Engine> {
  return (loadingEngine ??= import('../session/engine.js').then(
    (module) => (engine = module),
    (error: unknown) => {
      loadingEngine = undefined;
      throw error;
    },
  ));
}

/** What the controller needs from its element: the call's settings as its attributes hold them. */
export interface SessionControllerHost extends ReactiveControllerHost, EventTarget, CallSettings {
  readonly isConnected: boolean;
  readonly tokenProvider?: TokenProvider;
  readonly muted: boolean;
  /** The chosen microphone and speaker; set back to `''` (the default) when the chosen one goes away. */
  inputDeviceId: string;
  outputDeviceId: string;
  /** The audio settings its attributes hold (jitter buffer, playback route, devices). */
  readonly audioSettings: AudioEngineOptions & { prebufferMs: number; maxBufferMs: number };
  /** Extra session settings (audio options, timeouts); test seams and advanced use. */
  readonly sessionOptions?: Partial<SessionConfig>;
  /** The page's client tools, as set (checked when the session declares them). */
  readonly tools?: unknown;
  /** Whether a connection that drops during the call is restored: `auto` or `off`. */
  readonly reconnect: string;
}

/**
 * Bridges one VoiceSession at a time to the element: keeps the latest snapshot for rendering,
 * requests updates, and turns session events into the public `va-*` DOM events (dispatched here,
 * on the host). Ends the session when the element leaves the document (not when it merely moves).
 */
export class SessionController implements ReactiveController {
  snapshot: SessionSnapshot = INITIAL_SNAPSHOT;
  /** A device problem the call goes on with (`device-lost`, a microphone that would not switch), for the panel to show. */
  notice?: VoiceAgentError;
  /** Whether a `va-before-connect` listener cancelled the latest `start()`. */
  cancelled = false;
  private _session?: VoiceSession;
  /** The session whose connect was reported and whose disconnect has not been yet. */
  private _reportsEnd?: VoiceSession;
  /**
   * A start waiting for the call engine to load, or for the call before it to end, with the
   * AudioContext it made in the gesture.
   */
  private _starting?: { promise: Promise<void>; context: AudioContext | undefined };

  constructor(private readonly _host: SessionControllerHost) {
    _host.addController(this);
  }

  hostConnected(): void {
    if (engine || loadingEngine) return;
    const warm = (): void => void loadEngine().catch(() => {});
    if (!idleLoadScheduled) {
      idleLoadScheduled = true;
      // Safari has no requestIdleCallback.
      if (typeof requestIdleCallback === 'function') requestIdleCallback(warm, { timeout: 2000 });
      else setTimeout(warm, 1000);
    }
    for (const type of ['pointerenter', 'focusin']) this._host.addEventListener(type, warm, { once: true });
  }

  hostDisconnected(): void {
    // A move (remove + insert in one task) must not end the call; a removal must.
    queueMicrotask(() => {
      if (!this._host.isConnected) void this.stop();
    });
  }

  get inputLevel(): number {
    return this._session?.inputLevel ?? 0;
  }

  get outputLevel(): number {
    return this._session?.outputLevel ?? 0;
  }

  /**
   * Starts a session unless one is live. Synchronous up to the session's first await (user gesture):
   * a voice call's AudioContext is made here, before the call engine may still have to load.
   */
  start(): Promise<void> {
    if (this._starting) return this._starting.promise;
    this.cancelled = false;
    const current = this._session;
    // A session connecting or connected is the call: starting again joins it. One that is ending (a
    // stop() just before, as in a framework's effect cleanup and re-run) gives way to a new one: at
    // once if it never connected, else once it has ended and reported so, so that its va-disconnect
    // never comes during the new call.
    const status = current?.snapshot.status;
    if (current && (status === 'connecting' || status === 'connected' || status === 'reconnecting')) return current.start();
    // Nothing opens, and no listener sees the settings, while one holds a secret key: the call's
    // settings, then the others it sends or loads from (worklet folder, tool definitions).
    const config = validateCallSettings(this._host);
    if (config instanceof VoiceAgentError) return this._fail(config);
    const audioSettings = this._host.audioSettings;
    const invalid =
      refuseSecretKeys({ 'worklet-base-url': audioSettings.worklets?.baseUrl, tools: this._host.tools }) ??
      validateBuffer(audioSettings.prebufferMs, audioSettings.maxBufferMs);
    if (invalid) return this._fail(invalid);
    const { reconnect } = this._host;
    if (reconnect !== 'auto' && reconnect !== 'off') {
      return this._fail(new VoiceAgentError('config-invalid', `The reconnect attribute must be "auto" or "off" (got ${JSON.stringify(String(reconnect).slice(0, 40))}).`));
    }
    const before = new VaBeforeConnectEvent(config);
    if (!this._host.dispatchEvent(before)) return this._cancel();
    // What the listeners changed is checked as the attributes are (a config replaced by a non-object has no valid variables).
    const edited = validateCallSettings(Object(before.detail.config) as CallSettings, ' (set by va-before-connect)');
    if (edited instanceof VoiceAgentError) return this._fail(edited);
    const { agentId, mode, variables, serverUrl, tokenEndpoint } = edited;
    const { tokenProvider } = this._host;
    if (!tokenProvider && !tokenEndpoint) {
      return this._fail(new VoiceAgentError('config-invalid', 'Set the token-endpoint attribute (or a tokenProvider) before starting.'));
    }
    this.notice = undefined;
    const options = this._host.sessionOptions;
    const audio = { ...audioSettings, ...options?.audio };
    if (mode === 'webcall' && !audio.context) {
      try {
        audio.context = createAudioContext(audio.contextSampleRate);
      } catch {
        // The engine tries again, and reports the failure as the call's.
      }
    }
    const begin = (loaded: Engine): Promise<void> => {
      const session = (this._session = new loaded.VoiceSession({
        ...options,
        audio,
        agentId,
        mode,
        variables,
        serverUrl,
        tokenProvider: tokenProvider ?? loaded.endpointTokenProvider(tokenEndpoint, { ...(options?.tokenTimeoutMs ? { timeoutMs: options.tokenTimeoutMs } : {}) }),
        muted: this._host.muted,
        tools: this._host.tools,
        reconnect: reconnect === 'off' ? false : (options?.reconnect ?? {}),
      }));
      // Only the current session's events reach the page (one replaced before it connected has nothing to report).
      session.subscribe((event, snapshot) => {
        if (session === this._session) this._handleSessionEvent(event, snapshot);
      });
      return session.start();
    };
    const ending = current && current === this._reportsEnd ? current.stop() : undefined;
    if (engine && !ending) return begin(engine);
    // Until the engine is there and the call before has ended, the widget shows the call starting;
    // the new session's own status events follow once it runs. A stop() meanwhile drops the start.
    const starting = (this._starting = { promise: Promise.resolve(), context: audio.context });
    this._showStarting(mode === 'webcall' ? 'microphone' : 'agent');
    starting.promise = Promise.all([loadEngine(), ending]).then(
      ([loaded]) => {
        if (this._starting !== starting) return;
        this._starting = undefined;
        return begin(loaded);
      },
      (cause: unknown) => {
        if (this._starting !== starting) return;
        this._dropStart();
        // Offline, the network is to blame; online, most likely the site serves voice-agent.js alone.
        const error = navigator.onLine
          ? new VoiceAgentError('config-invalid', 'The call engine could not be loaded: serve voice-agent-engine.js and the other files built beside voice-agent.js with it, or use voice-agent.standalone.js.', { cause, reason: 'files' })
          : new VoiceAgentError('socket-failed', 'The call engine could not be loaded: the browser is offline.', { cause });
        return this._fail(error);
      },
    );
    return starting.promise;
  }

  /** The widget shows a call starting while no session runs it yet. */
  private _showStarting(phase: SessionSnapshot['phase']): void {
    this.snapshot = { ...this.snapshot, status: 'connecting', phase, error: undefined };
    this._host.requestUpdate();
  }

  /** A waiting start is given up: its context closes, the widget shows no new call (the one before may still be ending). */
  private _dropStart(): void {
    const starting = this._starting;
    if (!starting) return;
    this._starting = undefined;
    void starting.context?.close().catch(() => {});
    const status = this._session?.snapshot.status === 'disconnecting' ? 'disconnecting' : 'disconnected';
    this.snapshot = { ...this.snapshot, status, phase: undefined };
    this._host.requestUpdate();
  }

  stop(): Promise<void> {
    this._dropStart();
    return this._session?.stop() ?? Promise.resolve();
  }

  sendText(text: string): boolean {
    return this._session?.sendText(text) ?? false;
  }

  setMuted(muted: boolean): void {
    this._session?.setMuted(muted);
  }

  /** During a call, declares the page's new set of client tools to the agent. */
  setTools(tools: unknown): void {
    this._session?.setTools(tools);
  }

  resumeAudio(): void {
    this._session?.resumeAudio();
  }

  /** Switches the call's microphone or speaker; choosing a device settles what the notice said. */
  setDevice(kind: 'input' | 'output', id: string): void {
    if (id) this.notice = undefined;
    this._session?.setDevice(kind, id);
  }

  /** A start a `va-before-connect` listener cancelled: nothing opens, and an earlier failure is no longer shown. */
  private _cancel(): Promise<void> {
    this.cancelled = true;
    if (this.snapshot.status === 'disconnected' && this.snapshot.error) {
      this.snapshot = { ...this.snapshot, error: undefined };
      this._host.requestUpdate();
    }
    return Promise.resolve();
  }

  /** A failure before any session exists (configuration): shown and reported like any other. */
  private _fail(error: VoiceAgentError): Promise<void> {
    this.snapshot = { ...this.snapshot, error };
    this._host.requestUpdate();
    this._host.dispatchEvent(VaErrorEvent.from(error));
    return Promise.resolve();
  }

  private readonly _handleSessionEvent = (event: SessionEvent, snapshot: SessionSnapshot): void => {
    // The call before a waiting start reports its end; the widget goes on showing the new call starting.
    this.snapshot = this._starting ? { ...snapshot, status: 'connecting', phase: this.snapshot.phase, error: undefined } : snapshot;
    this._host.requestUpdate();
    switch (event.type) {
      case 'status':
        this._host.dispatchEvent(new VaStatusChangeEvent({ status: event.status, previous: event.previous }));
        break;
      case 'transcript':
        this._host.dispatchEvent(new VaTranscriptEvent({ ...event.entry }));
        break;
      case 'error': {
        const { error } = event;
        if (error.code === 'device-lost') this._host[error.reason === 'speaker' ? 'outputDeviceId' : 'inputDeviceId'] = '';
        if (!error.fatal && /^(mic|device)-/.test(error.code)) this.notice = error;
        this._host.dispatchEvent(VaErrorEvent.from(error));
        break;
      }
      case 'connect':
        this._reportsEnd = this._session;
        this._host.dispatchEvent(new VaConnectEvent({ ...event.info }));
        break;
      case 'disconnect':
        this._reportsEnd = undefined;
        this._host.dispatchEvent(new VaDisconnectEvent(event.reason));
        break;
      case 'reconnecting':
        this._host.dispatchEvent(new VaReconnectingEvent({ attempt: event.attempt }));
        break;
      case 'reconnected':
        this._host.dispatchEvent(new VaReconnectedEvent({ sessionId: event.info.sessionId, callId: event.info.callId }));
        break;
      case 'tool-call': {
        const { callId, name, arguments: args } = event.call;
        if (!this._host.dispatchEvent(new VaToolCallEvent({ callId, name, arguments: args }))) event.decline();
        break;
      }
      case 'tool-result':
        this._host.dispatchEvent(new VaToolResultEvent({ ...event.result }));
        break;
      case 'speaking':
      case 'tools-accepted':
      case 'phase':
      case 'reply':
      case 'suspended':
      case 'offline':
      case 'network-slow':
        break;
    }
  };
}
