/**
 * Atoms realtime agent WebSocket (`/atoms/v1/agent/connect`) wire shapes, per its AsyncAPI spec.
 * Imported only inside `protocol/atoms/`.
 */
import type { CLIENT_FRAME } from './wire-facts.js';

export type AtomsClientFrame =
  | { type: typeof CLIENT_FRAME.audio; audio: string }
  | { type: typeof CLIENT_FRAME.text; text: string }
  | { type: typeof CLIENT_FRAME.update; tools: AtomsToolDeclaration[] }
  | { type: typeof CLIENT_FRAME.toolResult; call_id: string; output: string }
  | { type: typeof CLIENT_FRAME.close };

/** A runtime client tool in `session.update` (the cookbook's client-tools sample). */
export interface AtomsToolDeclaration {
  type: 'function';
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  timeout_ms: number;
  expectsResponse: boolean;
}

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
  /** `session.updated`: the tools accepted. */
  tools?: unknown;
  /** `function_call`. */
  name?: unknown;
  arguments?: unknown;
}
