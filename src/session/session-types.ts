import type { VoiceAgentError } from '../errors.js';
import type { TranscriptRole } from '../protocol/agent-events.js';
import type { CallMode } from '../protocol/atoms/call-facts.js';

export type { CallMode };

export type SessionStatus = 'disconnected' | 'connecting' | 'connected' | 'disconnecting';

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

/** While `connecting`: waiting for the microphone (the browser may be asking), then for the agent. */
export type ConnectPhase = 'microphone' | 'agent';

/** Everything the view renders, as one immutable value. */
export interface SessionSnapshot {
  readonly status: SessionStatus;
  /** What `connecting` is waiting for; undefined in every other status. */
  readonly phase?: ConnectPhase;
  /** How long the last connected call lasted, in ms, once it has ended; undefined before. */
  readonly durationMs?: number;
  /** The agent is audible (in a voice call: the player's edges, not the server's talking events). */
  readonly speaking: boolean;
  readonly muted: boolean;
  /** The browser suspended the call's audio (a phone call, a backgrounded tab) and it waits for a tap. */
  readonly suspended: boolean;
  readonly transcript: readonly TranscriptEntry[];
  /** The error that ended the last session, until the next start. */
  readonly error?: VoiceAgentError;
  readonly info?: SessionInfo;
  /** The client tools the agent accepted in this call (its last confirmation); empty before one. */
  readonly acceptedTools: readonly string[];
}

export const INITIAL_SNAPSHOT: SessionSnapshot = Object.freeze({
  status: 'disconnected',
  speaking: false,
  muted: false,
  suspended: false,
  transcript: Object.freeze([]) as readonly TranscriptEntry[],
  acceptedTools: Object.freeze([]) as readonly string[],
});
