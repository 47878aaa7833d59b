/**
 * Public DOM events of `<voice-agent>`. All bubble and are composed, so a page can listen on any
 * ancestor, even across shadow roots. Typed through `GlobalEventHandlersEventMap`.
 */
import type { VoiceAgentError, VoiceAgentErrorCode } from './errors.js';
import type { ConnectConfig } from './session/call-config.js';
import type { ToolCallError } from './session/client-tools.js';
import type { DisconnectReason, SessionStatus, TranscriptEntry } from './session/session-types.js';

export type { ConnectConfig };

const PUBLISHED = { bubbles: true, composed: true } as const;

/**
 * Fired by `start()` before anything opens. Cancelable: `preventDefault()` and nothing opens, the
 * floating panel stays as it is, and no error is shown. Listeners may change `detail.config` for this
 * call, synchronously: `variables`, `agentId`, `mode`, `serverUrl`, `tokenEndpoint` (unused with a
 * `tokenProvider`). The changes are checked as the attributes are (`config-invalid`); the element's
 * own properties keep their values. Everything else (token provider, audio, devices) comes from the element.
 */
export class VaBeforeConnectEvent extends CustomEvent<{ config: ConnectConfig }> {
  static readonly eventName = 'va-before-connect';
  constructor(config: ConnectConfig) {
    super(VaBeforeConnectEvent.eventName, { ...PUBLISHED, cancelable: true, detail: { config } });
  }
}

export interface StatusChangeDetail {
  status: SessionStatus;
  previous: SessionStatus;
}
export class VaStatusChangeEvent extends CustomEvent<StatusChangeDetail> {
  static readonly eventName = 'va-status-change';
  constructor(detail: StatusChangeDetail) {
    super(VaStatusChangeEvent.eventName, { ...PUBLISHED, detail });
  }
}

export class VaTranscriptEvent extends CustomEvent<TranscriptEntry> {
  static readonly eventName = 'va-transcript';
  constructor(detail: TranscriptEntry) {
    super(VaTranscriptEvent.eventName, { ...PUBLISHED, detail });
  }
}

export interface ErrorDetail {
  code: VoiceAgentErrorCode;
  message: string;
  /** True when the error ended (or prevented) the call. */
  fatal: boolean;
}
export class VaErrorEvent extends CustomEvent<ErrorDetail> {
  static readonly eventName = 'va-error';
  constructor(detail: ErrorDetail) {
    super(VaErrorEvent.eventName, { ...PUBLISHED, detail });
  }

  /** The one way an error becomes an event: its stable code, its message, whether it ended the call. */
  static from(error: VoiceAgentError): VaErrorEvent {
    return new VaErrorEvent({ code: error.code, message: error.message, fatal: error.fatal });
  }
}

export interface ConnectDetail {
  sessionId: string;
  callId: string;
  sampleRate: number;
}
export class VaConnectEvent extends CustomEvent<ConnectDetail> {
  static readonly eventName = 'va-connect';
  constructor(detail: ConnectDetail) {
    super(VaConnectEvent.eventName, { ...PUBLISHED, detail });
  }
}

export class VaDisconnectEvent extends CustomEvent<{ reason: DisconnectReason }> {
  static readonly eventName = 'va-disconnect';
  constructor(reason: DisconnectReason) {
    super(VaDisconnectEvent.eventName, { ...PUBLISHED, detail: { reason } });
  }
}

export interface ReconnectingDetail {
  /** The try that begins, from 1. */
  attempt: number;
}
/**
 * The connection dropped during the call, and try `attempt` to restore it begins (a fresh token, a
 * new socket). Meanwhile `status` is `reconnecting` and the microphone stays open.
 */
export class VaReconnectingEvent extends CustomEvent<ReconnectingDetail> {
  static readonly eventName = 'va-reconnecting';
  constructor(detail: ReconnectingDetail) {
    super(VaReconnectingEvent.eventName, { ...PUBLISHED, detail });
  }
}

export interface ReconnectedDetail {
  /** The agent's new session: a reconnect is a new call on its server. */
  sessionId: string;
  callId: string;
}
/** The call goes on over a new connection, in a new session; the transcript marks where it begins. */
export class VaReconnectedEvent extends CustomEvent<ReconnectedDetail> {
  static readonly eventName = 'va-reconnected';
  constructor(detail: ReconnectedDetail) {
    super(VaReconnectedEvent.eventName, { ...PUBLISHED, detail });
  }
}

/** The floating panel opened. */
export class VaOpenEvent extends CustomEvent<Record<string, never>> {
  static readonly eventName = 'va-open';
  constructor() {
    super(VaOpenEvent.eventName, { ...PUBLISHED, detail: {} });
  }
}

/** The floating panel closed; a call, if any, goes on. */
export class VaCloseEvent extends CustomEvent<Record<string, never>> {
  static readonly eventName = 'va-close';
  constructor() {
    super(VaCloseEvent.eventName, { ...PUBLISHED, detail: {} });
  }
}

export interface DeviceChangeDetail {
  /** `input` (the microphone) or `output` (the speaker). */
  kind: 'input' | 'output';
  /** The device now chosen; `''` for the system default. */
  deviceId: string;
}
/** The chosen microphone or speaker changed: picked in the menu, set by the page, or back to the default after it went away. */
export class VaDeviceChangeEvent extends CustomEvent<DeviceChangeDetail> {
  static readonly eventName = 'va-device-change';
  constructor(detail: DeviceChangeDetail) {
    super(VaDeviceChangeEvent.eventName, { ...PUBLISHED, detail });
  }
}

export interface ToolCallDetail {
  /** The agent's id for this call; `va-tool-result` carries the same. */
  callId: string;
  /** The tool's name (a key of `tools`). */
  name: string;
  /** The arguments the agent passed: a JSON object. */
  arguments: Record<string, unknown>;
}
/**
 * The agent calls one of the page's client tools; its handler runs right after. Cancelable:
 * `preventDefault()` keeps the handler from running, and the agent is told the page declined.
 */
export class VaToolCallEvent extends CustomEvent<ToolCallDetail> {
  static readonly eventName = 'va-tool-call';
  constructor(detail: ToolCallDetail) {
    super(VaToolCallEvent.eventName, { ...PUBLISHED, cancelable: true, detail });
  }
}

export interface ToolResultDetail {
  callId: string;
  name: string;
  /** What the agent was told: the handler's value as a string, or a sentence saying what failed. */
  output: string;
  /**
   * Why the output is not the handler's value: `unknown-tool`, `invalid-arguments`, `declined`,
   * `failed` (threw or rejected), `timeout`, or `ended` (the call ended first; nothing was sent).
   */
  error?: ToolCallError;
}
/**
 * A tool call settled: answered with `output` (a fire-and-forget tool's output is not sent). Fires
 * once for every call, also for a tool the page does not have (no `va-tool-call` comes before that).
 */
export class VaToolResultEvent extends CustomEvent<ToolResultDetail> {
  static readonly eventName = 'va-tool-result';
  constructor(detail: ToolResultDetail) {
    super(VaToolResultEvent.eventName, { ...PUBLISHED, detail });
  }
}

export const PUBLIC_EVENT_NAMES = [
  VaBeforeConnectEvent.eventName,
  VaStatusChangeEvent.eventName,
  VaTranscriptEvent.eventName,
  VaErrorEvent.eventName,
  VaConnectEvent.eventName,
  VaDisconnectEvent.eventName,
  VaReconnectingEvent.eventName,
  VaReconnectedEvent.eventName,
  VaOpenEvent.eventName,
  VaCloseEvent.eventName,
  VaDeviceChangeEvent.eventName,
  VaToolCallEvent.eventName,
  VaToolResultEvent.eventName,
] as const;

/** Every `va-*` event by name: `addEventListener('va-error', …)` and JSX event props are typed from it. */
export interface VoiceAgentEventMap {
  'va-before-connect': VaBeforeConnectEvent;
  'va-status-change': VaStatusChangeEvent;
  'va-transcript': VaTranscriptEvent;
  'va-error': VaErrorEvent;
  'va-connect': VaConnectEvent;
  'va-disconnect': VaDisconnectEvent;
  'va-reconnecting': VaReconnectingEvent;
  'va-reconnected': VaReconnectedEvent;
  'va-open': VaOpenEvent;
  'va-close': VaCloseEvent;
  'va-device-change': VaDeviceChangeEvent;
  'va-tool-call': VaToolCallEvent;
  'va-tool-result': VaToolResultEvent;
}

declare global {
  interface GlobalEventHandlersEventMap extends VoiceAgentEventMap {}
}
