/**
 * The local agent's plain data: what a call is, and what the agent records about one session. It imports
 * types only, so code for any runtime (the browser tests among it) can use them.
 */

import type { CallMode } from '../protocol/atoms/call-facts.js';
import type { CallVariables } from '../server/validation.js';

export type { CallMode, CallVariables };

/** What the agent recorded about one session. A plain, JSON-serialisable object, updated while the session runs. */
export interface SessionStats {
  /** `session_id` from `session.created`. */
  sessionId: string;
  /** `call_id` from `session.created` (`CALL-<ms>-<hex6>`). */
  callId: string;
  agentId: string;
  mode: CallMode;
  /** The call variables, reserved keys removed. */
  variables: CallVariables;
  /** Epoch ms. */
  openedAt: number;
  /** Epoch ms when the session ended. */
  closedAt?: number;
  /** `client_requested`, `ended` (the agent hung up), `websocket_closed` (the socket closed first) or `server_shutdown`. */
  closeReason?: string;
  /** Valid `input_audio_buffer.append` frames received (invalid ones count in `invalidEvents`). */
  appendFrames: number;
  /** Samples per received append frame → how many frames had that size. */
  frameSamples: Record<string, number>;
  /** Loudest input frame so far (RMS, linear). */
  maxInputRms: number;
  /**
   * Lag-one autocorrelation of the loud input frames (−1..1): near 1 for voice, near 0 for noise,
   * such as speech sent with its bytes swapped. 0 until a loud frame arrives.
   */
  inputCorrelation: number;
  /** User turns committed by the turn detector. */
  turns: number;
  /** `interruption` events sent. */
  interruptions: number;
  /** Every `input_text.send` text, in order. */
  textInputs: string[];
  /** `error` events with code `invalid_event` sent. */
  invalidEvents: number;
  /** Agent audio sent, in ms. */
  audioSentMs: number;
  /** `session.update` frames that carried `tools`, accepted or refused. */
  toolUpdates: number;
  /** The client tools in force: those of the last accepted `session.update`, as declared. */
  tools: ToolDeclarationRecord[];
  /** Every client tool the agent called, oldest first. */
  toolCalls: ToolCallRecord[];
  /** The client-tool error codes sent (`invalid_tools`, `tool_timeout`, `unknown_call_id`, …), in order. */
  toolErrors: string[];
}

/** One client tool as a `session.update` declared it. */
export interface ToolDeclarationRecord {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  timeoutMs: number;
  expectsResponse: boolean;
}

/** One client tool call the agent made. */
export interface ToolCallRecord {
  callId: string;
  name: string;
  arguments: Record<string, unknown>;
  /**
   * `waiting` for the result, `answered`, `timed-out` (no result within the tool's timeout), or
   * `fire-and-forget` (a tool that expects no response: nothing is waited for).
   */
  outcome: 'waiting' | 'answered' | 'timed-out' | 'fire-and-forget';
  /** The result's output, once answered. */
  output?: string;
}
