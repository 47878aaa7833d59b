/**
 * The protocol-neutral vocabulary between the session and the wire. Each wire protocol has one
 * adapter that decodes its frames into `AgentEvent`s and encodes `ClientCommand`s; nothing else
 * ever sees wire JSON.
 */

export type TranscriptRole = 'user' | 'assistant';

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
  /** A frame that could not be read. Skipped; reported to the page as a non-fatal `protocol-error`. */
  | { type: 'malformed'; message: string };

export type ClientCommand =
  | { type: 'audio'; pcm: Int16Array }
  | { type: 'text'; text: string }
  | { type: 'close' };

export interface Connection {
  url: string;
  protocols?: string[];
}

export interface ProtocolAdapter {
  /** Short protocol name, e.g. `atoms`. */
  readonly id: string;
  /** Where and how to open the socket: the adapter decides how the token travels (query or subprotocol). */
  connection(serverUrl: string, token: string): Connection;
  /** One wire frame → zero or more events. Never throws; unknown frame types give `[]`. */
  decode(frame: string | ArrayBuffer): AgentEvent[];
  /** One command → one wire frame. */
  encode(command: ClientCommand): string | ArrayBuffer;
}
