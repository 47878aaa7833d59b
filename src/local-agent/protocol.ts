/**
 * The parts of the Atoms wire protocol that the session and its playback share: the events the agent
 * sends, the longest text a client may send, and the timestamp format.
 */

/** Longest `input_text.send` text, and longest string call variable, a client may send. */
export const MAX_TEXT_LENGTH = 4000;

/** The events the agent sends over the WebSocket. */
export type ServerEvent =
  | { type: 'session.created'; session_id: string; call_id: string; sample_rate: number; channels: 1 }
  | { type: 'session.closed'; reason: string }
  | { type: 'agent_start_talking' | 'agent_stop_talking'; timestamp: string }
  | { type: 'output_audio.delta'; audio: string }
  | { type: 'transcript' | 'transcript.delta'; role: 'user' | 'assistant'; text: string }
  | { type: 'interruption' }
  /** The client tools declared by the last `session.update` were accepted: their names. */
  | { type: 'session.updated'; tools: string[] }
  /** The agent calls a client tool. */
  | { type: 'function_call'; call_id: string; name: string; arguments: Record<string, unknown> | string }
  | { type: 'error'; code: ToolErrorCode; message: string }
  | { type: 'error'; code: 'invalid_event' | 'internal_error'; message: string }
  /** A fatal setup failure after the upgrade: the HTTP status as a string; the socket then closes with 4000. */
  | { type: 'error'; code: SetupErrorCode; message: string };

/** Setup failures the agent reports after the WebSocket upgrade, before closing with code 4000. */
export type SetupErrorCode = '401';

/** The close code that follows a fatal setup error. */
export const SETUP_FAILED_CLOSE_CODE = 4000;

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
