import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { VoiceAgentError } from '../errors.js';
import {
  VaBeforeConnectEvent,
  VaConnectEvent,
  VaDisconnectEvent,
  VaErrorEvent,
  VaStatusChangeEvent,
  VaTranscriptEvent,
  type ConnectConfig,
} from '../events.js';
import { INITIAL_SNAPSHOT, type SessionSnapshot } from '../session/session-types.js';
import { endpointTokenProvider, type TokenProvider } from '../session/token.js';
import { VoiceSession, type SessionConfig, type SessionEvent } from '../session/voice-session.js';

/** What the controller needs from its element. */
export interface SessionControllerHost extends ReactiveControllerHost, EventTarget {
  readonly isConnected: boolean;
  /** The connection settings from attributes and properties, or the reason they are unusable. */
  connectConfig(): ConnectConfig | VoiceAgentError;
  readonly tokenProvider?: TokenProvider;
  readonly muted: boolean;
  /** Extra session settings (audio options, timeouts); test seams and advanced use. */
  readonly sessionOptions?: Partial<SessionConfig>;
}

/**
 * Bridges one VoiceSession at a time to the element: keeps the latest snapshot for rendering,
 * requests updates, and turns session events into the public `va-*` DOM events (dispatched here,
 * on the host). Ends the session when the element leaves the document (not when it merely moves).
 */
export class SessionController implements ReactiveController {
  snapshot: SessionSnapshot = INITIAL_SNAPSHOT;
  private session?: VoiceSession;
  private unsubscribe?: () => void;

  constructor(private readonly host: SessionControllerHost) {
    host.addController(this);
  }

  hostDisconnected(): void {
    // A move (remove + insert in one task) must not end the call; a removal must.
    queueMicrotask(() => {
      if (!this.host.isConnected) void this.stop();
    });
  }

  get inputLevel(): number {
    return this.session?.inputLevel ?? 0;
  }

  get outputLevel(): number {
    return this.session?.outputLevel ?? 0;
  }

  /** Starts a session unless one is live. Synchronous up to the session's first await (user gesture). */
  start(): Promise<void> {
    const current = this.session;
    if (current && current.snapshot.status !== 'disconnected') return current.start();
    const config = this.host.connectConfig();
    if (config instanceof VoiceAgentError) return this.fail(config);
    const before = new VaBeforeConnectEvent(config);
    if (!this.host.dispatchEvent(before)) return Promise.resolve();
    const { agentId, mode, variables, serverUrl, tokenEndpoint } = before.detail.config;
    const tokenProvider = this.host.tokenProvider ?? (tokenEndpoint ? endpointTokenProvider(tokenEndpoint) : undefined);
    if (!tokenProvider) {
      return this.fail(new VoiceAgentError('config-invalid', 'Set the token-endpoint attribute (or a tokenProvider) before starting.'));
    }
    this.unsubscribe?.();
    const session = (this.session = new VoiceSession({
      ...this.host.sessionOptions,
      agentId,
      mode,
      variables,
      serverUrl,
      tokenProvider,
      muted: this.host.muted,
    }));
    this.unsubscribe = session.subscribe(this.handleSessionEvent);
    return session.start();
  }

  stop(): Promise<void> {
    return this.session?.stop() ?? Promise.resolve();
  }

  sendText(text: string): boolean {
    return this.session?.sendText(text) ?? false;
  }

  setMuted(muted: boolean): void {
    this.session?.setMuted(muted);
  }

  /** A failure before any session exists (configuration): shown and reported like any other. */
  private fail(error: VoiceAgentError): Promise<void> {
    this.snapshot = { ...this.snapshot, error };
    this.host.requestUpdate();
    this.host.dispatchEvent(new VaErrorEvent({ code: error.code, message: error.message, fatal: true }));
    return Promise.resolve();
  }

  private readonly handleSessionEvent = (event: SessionEvent, snapshot: SessionSnapshot): void => {
    this.snapshot = snapshot;
    this.host.requestUpdate();
    switch (event.type) {
      case 'status':
        this.host.dispatchEvent(new VaStatusChangeEvent({ status: event.status, previous: event.previous }));
        break;
      case 'transcript':
        this.host.dispatchEvent(new VaTranscriptEvent({ ...event.entry }));
        break;
      case 'error':
        this.host.dispatchEvent(new VaErrorEvent({ code: event.error.code, message: event.error.message, fatal: event.error.fatal }));
        break;
      case 'connect':
        this.host.dispatchEvent(new VaConnectEvent({ ...event.info }));
        break;
      case 'disconnect':
        this.host.dispatchEvent(new VaDisconnectEvent(event.reason));
        break;
      case 'speaking':
        break;
    }
  };
}
