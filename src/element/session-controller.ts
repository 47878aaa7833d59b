import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { VoiceAgentError } from '../errors.js';
import { VaBeforeConnectEvent, VaConnectEvent, VaDisconnectEvent, VaErrorEvent, VaStatusChangeEvent, VaToolCallEvent, VaToolResultEvent, VaTranscriptEvent } from '../events.js';
import type { AudioEngineOptions } from '../audio/audio-engine.js';
import { validateBuffer, validateCallSettings, type CallSettings } from '../session/call-config.js';
import { INITIAL_SNAPSHOT, type SessionSnapshot } from '../session/session-types.js';
import { endpointTokenProvider, type TokenProvider } from '../session/token.js';
import { VoiceSession, type SessionConfig, type SessionEvent } from '../session/voice-session.js';

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

  constructor(private readonly _host: SessionControllerHost) {
    _host.addController(this);
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

  /** Starts a session unless one is live. Synchronous up to the session's first await (user gesture). */
  start(): Promise<void> {
    this.cancelled = false;
    const current = this._session;
    // A session connecting or connected is the call: starting again joins it. One that is ending (a
    // stop() just before, as in a framework's effect cleanup and re-run) gives way to a new one at once.
    const status = current?.snapshot.status;
    if (current && (status === 'connecting' || status === 'connected')) return current.start();
    const config = validateCallSettings(this._host);
    if (config instanceof VoiceAgentError) return this._fail(config);
    const audio = this._host.audioSettings;
    const invalid = validateBuffer(audio.prebufferMs, audio.maxBufferMs);
    if (invalid) return this._fail(invalid);
    const before = new VaBeforeConnectEvent(config);
    if (!this._host.dispatchEvent(before)) return this._cancel();
    // What the listeners changed is checked as the attributes are (a config replaced by a non-object has no valid variables).
    const edited = validateCallSettings(Object(before.detail.config) as CallSettings);
    if (edited instanceof VoiceAgentError) return this._fail(edited);
    const { agentId, mode, variables, serverUrl, tokenEndpoint } = edited;
    const tokenProvider = this._host.tokenProvider ?? (tokenEndpoint ? endpointTokenProvider(tokenEndpoint) : undefined);
    if (!tokenProvider) {
      return this._fail(new VoiceAgentError('config-invalid', 'Set the token-endpoint attribute (or a tokenProvider) before starting.'));
    }
    this.notice = undefined;
    const options = this._host.sessionOptions;
    const session = (this._session = new VoiceSession({
      ...options,
      audio: { ...audio, ...options?.audio },
      agentId,
      mode,
      variables,
      serverUrl,
      tokenProvider,
      muted: this._host.muted,
      tools: this._host.tools,
    }));
    // A session replaced while it was ending still reports how it ended, and nothing else.
    session.subscribe((event, snapshot) => {
      if (session === this._session) this._handleSessionEvent(event, snapshot);
      else if (event.type === 'disconnect') this._host.dispatchEvent(new VaDisconnectEvent(event.reason));
    });
    return session.start();
  }

  stop(): Promise<void> {
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
    this.snapshot = snapshot;
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
        this._host.dispatchEvent(new VaConnectEvent({ ...event.info }));
        break;
      case 'disconnect':
        this._host.dispatchEvent(new VaDisconnectEvent(event.reason));
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
        break;
    }
  };
}
