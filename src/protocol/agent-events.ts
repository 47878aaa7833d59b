/**
 * The protocol-neutral vocabulary between the session and the wire. Each wire protocol has one
 * adapter that decodes its frames into `AgentEvent`s and encodes `ClientCommand`s; nothing else
 * ever sees wire JSON.
 */

export type TranscriptRole = 'user' | 'assistant';

/**
 * The largest frame an adapter reads: 1 MiB, counted in characters for a text frame (never more than
 * its UTF-8 bytes) and in bytes for a binary one. About 16 s of 24 kHz audio fits in one frame of base64
 * PCM16; servers send 20 to 100 ms. A bigger frame is refused unread (not parsed, not kept): one
 * `malformed` event, which the session reports as a rate-limited, non-fatal `protocol-error`.
 */
export const MAX_FRAME_SIZE = 1024 * 1024;

export type AgentEvent =
  /** The server accepted the session; audio may flow from now on, at `sampleRate` both ways. */
  | { type: 'session-started'; sessionId: string; callId: string; sampleRate: number }
  /** Agent speech, mono PCM16 at the session rate. */
  | { type: 'audio'; pcm: Int16Array }
  /**
   * Transcript text for the turn in progress. `replace`: `text` is the whole turn so far (cumulative);
   * `append`: `text` continues it. `final` closes the turn with its definitive text.
   */
  | { type: 'transcript'; role: TranscriptRole; text: string; final: boolean; merge: 'replace' | 'append' }
  /** The user talked over the agent: queued agent audio must go at once. */
  | { type: 'interruption' }
  | { type: 'agent-speaking'; speaking: boolean }
  /** The server is ending the session (it closes the socket next). */
  | { type: 'session-ended'; reason: string }
  | { type: 'error'; code: string; message: string; fatal: boolean }
  /** The agent took the page's client tools: the names it accepted. */
  | { type: 'tools-accepted'; names: string[] }
  /** The agent refused the page's client tools (`code` is the server's reason); the call goes on without them. */
  | { type: 'tools-rejected'; code: string; message: string }
  /**
   * The agent calls one of the page's client tools and (unless the tool is fire-and-forget) waits for a
   * `tool-result` with the same `callId`. `arguments` is undefined when they could not be read as a JSON object.
   */
  | { type: 'tool-call'; callId: string; name: string; arguments: Record<string, unknown> | undefined }
  /** A frame that could not be read. Skipped; reported to the page as a non-fatal `protocol-error`. */
  | { type: 'malformed'; message: string };

export type ClientCommand =
  | { type: 'audio'; pcm: Int16Array }
  | { type: 'text'; text: string }
  /** Declares the page's client tools, replacing those declared before (an empty list clears them). */
  | { type: 'tools'; tools: readonly ToolDeclaration[] }
  /** Answers a tool call with its output. */
  | { type: 'tool-result'; callId: string; output: string }
  | { type: 'close' };

/** One client tool as the agent is told about it: everything but the handler, defaults filled in. */
export interface ToolDeclaration {
  name: string;
  description: string;
  /** The arguments, as a JSON Schema object. */
  parameters: Record<string, unknown>;
  /** How long the agent waits for the result, in ms. */
  timeoutMs: number;
  /** False: the agent does not wait for a result (fire-and-forget). */
  expectsResponse: boolean;
}

export interface Connection {
  url: string;
  protocols?: string[];
}

export interface ProtocolAdapter {
  /** Short protocol name, e.g. `atoms`. */
  readonly id: string;
  /** Where and how to open the socket: the adapter decides how the token travels (query or subprotocol). */
  connection(serverUrl: string, token: string): Connection;
  /**
   * One wire frame → zero or more events. Never throws; unknown frame types give `[]`; a frame over
   * {@link MAX_FRAME_SIZE} gives one `malformed` without being read.
   */
  decode(frame: string | ArrayBuffer): AgentEvent[];
  /** One command → one wire frame. */
  encode(command: ClientCommand): string | ArrayBuffer;
}
