/**
 * The parts of the Atoms wire protocol that the session and its playback share: the events the agent
 * sends and the timestamp format. The frame type names, the call modes and the text limit, which the
 * browser uses too, are in `protocol/atoms/` (`wire-facts.ts`, `call-facts.ts`).
 */
import type { SERVER_FRAME } from '../protocol/atoms/wire-facts.js';

/** The events the agent sends over the WebSocket. */
export type ServerEvent =
  | { type: typeof SERVER_FRAME.created; session_id: string; call_id: string; sample_rate: number; channels: 1 }
  | { type: typeof SERVER_FRAME.closed; reason: string }
  | { type: typeof SERVER_FRAME.startTalking | typeof SERVER_FRAME.stopTalking; timestamp: string }
  | { type: typeof SERVER_FRAME.audio; audio: string }
  | { type: typeof SERVER_FRAME.transcript | typeof SERVER_FRAME.transcriptDelta; role: 'user' | 'assistant'; text: string }
  | { type: typeof SERVER_FRAME.interruption }
  /** The client tools declared by the last `session.update` were accepted: their names. */
  | { type: typeof SERVER_FRAME.updated; tools: string[] }
  /** The agent calls a client tool. */
  | { type: typeof SERVER_FRAME.toolCall; call_id: string; name: string; arguments: Record<string, unknown> | string }
  | { type: typeof SERVER_FRAME.error; code: ToolErrorCode; message: string }
  | { type: typeof SERVER_FRAME.error; code: 'invalid_event' | 'internal_error'; message: string }
  /** A fatal setup failure after the upgrade: the HTTP status as a string; the socket then closes with 4000. */
  | { type: typeof SERVER_FRAME.error; code: SetupErrorCode; message: string };

/** Setup failures the agent reports after the WebSocket upgrade, before closing with code 4000 (an injected fault may use any code). */
export type SetupErrorCode = '401' | (string & {});

/**
 * Client-tool errors (PROTOCOLS §1.7): a refused `session.update` (`invalid_tools`, `tool_name_conflict`,
 * `client_tools_managed_by_config`), a result that is too late, unexpected or too large.
 */
export type ToolErrorCode =
  | 'invalid_tools'
  | 'tool_name_conflict'
  | 'client_tools_managed_by_config'
  | 'tool_timeout'
  | 'unknown_call_id'
  | 'result_too_large';

/** Largest `function_call.result` output, in UTF-8 bytes. */
export const MAX_TOOL_OUTPUT_BYTES = 64 * 1024;

/** ISO-8601 in UTC without a zone, to the microsecond, as Atoms writes it (`2026-07-02T10:30:45.123000`). */
export function timestamp(): string {
  return new Date().toISOString().replace('Z', '000');
}
