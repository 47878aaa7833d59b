/**
 * Public DOM events of `<voice-agent>`. All bubble and are composed, so a page can listen on any
 * ancestor, even across shadow roots. Typed through `GlobalEventHandlersEventMap`.
 */
import type { VoiceAgentErrorCode } from './errors.js';
import type { CallMode, CallVariables, DisconnectReason, SessionStatus, TranscriptEntry } from './session/session-types.js';

const PUBLISHED = { bubbles: true, composed: true } as const;

/** The connection settings a `va-before-connect` listener may edit. */
export interface ConnectConfig {
  agentId: string;
  mode: CallMode;
  variables: CallVariables;
  serverUrl: string;
  tokenEndpoint: string;
}

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

export const PUBLIC_EVENT_NAMES = [
  VaBeforeConnectEvent.eventName,
  VaStatusChangeEvent.eventName,
  VaTranscriptEvent.eventName,
  VaErrorEvent.eventName,
  VaConnectEvent.eventName,
  VaDisconnectEvent.eventName,
] as const;

declare global {
  interface GlobalEventHandlersEventMap {
    'va-before-connect': VaBeforeConnectEvent;
    'va-status-change': VaStatusChangeEvent;
    'va-transcript': VaTranscriptEvent;
    'va-error': VaErrorEvent;
    'va-connect': VaConnectEvent;
    'va-disconnect': VaDisconnectEvent;
  }
}
