/**
 * Public DOM events of `<voice-agent>`. All bubble and are composed, so a page can listen on any
 * ancestor, even across shadow roots. Typed through `GlobalEventHandlersEventMap`.
 */
import type { VoiceAgentError, VoiceAgentErrorCode } from './errors.js';
import type { ConnectConfig } from './session/call-config.js';
import type { DisconnectReason, SessionStatus, TranscriptEntry } from './session/session-types.js';

export type { ConnectConfig };

const PUBLISHED = { bubbles: true, composed: true } as const;

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

export const PUBLIC_EVENT_NAMES = [
  VaBeforeConnectEvent.eventName,
  VaStatusChangeEvent.eventName,
  VaTranscriptEvent.eventName,
  VaErrorEvent.eventName,
  VaConnectEvent.eventName,
  VaDisconnectEvent.eventName,
  VaOpenEvent.eventName,
  VaCloseEvent.eventName,
  VaDeviceChangeEvent.eventName,
] as const;

declare global {
  interface GlobalEventHandlersEventMap {
    'va-before-connect': VaBeforeConnectEvent;
    'va-status-change': VaStatusChangeEvent;
    'va-transcript': VaTranscriptEvent;
    'va-error': VaErrorEvent;
    'va-connect': VaConnectEvent;
    'va-disconnect': VaDisconnectEvent;
    'va-open': VaOpenEvent;
    'va-close': VaCloseEvent;
    'va-device-change': VaDeviceChangeEvent;
  }
}
