/**
 * Atoms realtime agent WebSocket (`/atoms/v1/agent/connect`) wire shapes, per its AsyncAPI spec.
 * Imported only inside `protocol/atoms/`.
 */

export type AtomsClientFrame =
  | { type: 'input_audio_buffer.append'; audio: string }
  | { type: 'input_text.send'; text: string }
  | { type: 'session.close' };

/** Server frames as they may arrive: every field is checked before use. */
export interface AtomsServerFrame {
  type?: unknown;
  session_id?: unknown;
  call_id?: unknown;
  sample_rate?: unknown;
  audio?: unknown;
  role?: unknown;
  text?: unknown;
  reason?: unknown;
  code?: unknown;
  message?: unknown;
  error?: { code?: unknown; message?: unknown } | unknown;
}
