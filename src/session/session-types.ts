import type { VoiceAgentError } from '../errors.js';
import type { TranscriptRole } from '../protocol/agent-events.js';
import type { CallMode } from '../protocol/atoms/call-facts.js';

export type { CallMode };

/**
 * Where the call is: `connecting` (microphone, token, socket, the agent's `session.created`),
 * `connected`, `reconnecting` (the connection dropped during the call and a new one is being made;
 * the microphone and audio stay open), `disconnecting`, `disconnected`.
 */
export type SessionStatus = 'disconnected' | 'connecting' | 'connected' | 'reconnecting' | 'disconnecting';

export type CallVariable = string | number | boolean;
export type CallVariables = Readonly<Record<string, CallVariable>>;

export interface TranscriptEntry {
  /** Who spoke; `system` for a mark in the conversation that no one said (see `mark`). */
  readonly role: TranscriptRole | 'system';
  /** What was said; empty on a `system` mark. */
  readonly text: string;
  /** False while the turn is in progress (its text may still change), true once settled. */
  readonly final: boolean;
  /**
   * On a `system` entry, what it marks: `reconnected`, the connection dropped and the call went on
   * from here in a new session on the agent's server (which does not remember what came before).
   */
  readonly mark?: TranscriptMark;
}

/** What a `system` transcript entry marks. */
export type TranscriptMark = 'reconnected';

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
  /** While `reconnecting`: the try under way (1-based), 0 while waiting before the first one. */
  readonly reconnectAttempt?: number;
  /** While `reconnecting`: the browser is offline, and the tries wait for the network. */
  readonly offline?: boolean;
  /** The uplink cannot keep up: microphone audio is being dropped (see the `network-slow` error). */
  readonly networkSlow: boolean;
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
  networkSlow: false,
  transcript: Object.freeze([]) as readonly TranscriptEntry[],
  acceptedTools: Object.freeze([]) as readonly string[],
});
