import type { VoiceAgentError } from '../errors.js';
import type { TranscriptRole } from '../protocol/agent-events.js';

export type SessionStatus = 'disconnected' | 'connecting' | 'connected' | 'disconnecting';

/** `webcall`: a voice call (microphone and speaker). `chat`: text only, no microphone. */
export type CallMode = 'webcall' | 'chat';

export type CallVariable = string | number | boolean;
export type CallVariables = Readonly<Record<string, CallVariable>>;

export interface TranscriptEntry {
  readonly role: TranscriptRole;
  readonly text: string;
  /** False while the turn is in progress (its text may still change), true once settled. */
  readonly final: boolean;
}

/**
 * Why a session ended: the server's `session.closed` reason (`client_requested`, `ended`,
 * `websocket_closed`, or another server tag), or `error` after a fatal error.
 */
export type DisconnectReason = 'client_requested' | 'ended' | 'websocket_closed' | 'error' | (string & {});

export interface SessionInfo {
  readonly sessionId: string;
  readonly callId: string;
  readonly sampleRate: number;
}

/** Everything the view renders, as one immutable value. */
export interface SessionSnapshot {
  readonly status: SessionStatus;
  readonly speaking: boolean;
  readonly muted: boolean;
  readonly transcript: readonly TranscriptEntry[];
  /** The error that ended the last session, until the next start. */
  readonly error?: VoiceAgentError;
  readonly info?: SessionInfo;
}

export const INITIAL_SNAPSHOT: SessionSnapshot = Object.freeze({
  status: 'disconnected',
  speaking: false,
  muted: false,
  transcript: Object.freeze([]) as readonly TranscriptEntry[],
});
