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
  | { type: 'error'; code: 'invalid_event' | 'internal_error'; message: string };

/** ISO-8601 in UTC without a zone, to the microsecond, as Atoms writes it (`2026-07-02T10:30:45.123000`). */
export function timestamp(): string {
  return new Date().toISOString().replace('Z', '000');
}
