/**
 * The session's ports, types only: what `VoiceSession` is given (a call's settings) and tells (its
 * events), and what it needs of the audio engine and of the socket, with the factories that make
 * them. The browser's are `AudioEngine` and `SocketTransport`; unit tests put fakes in their place.
 */
import type { AudioEngineOptions, PlaybackEvent } from '../audio/audio-engine.js';
import type { VoiceAgentError } from '../errors.js';
import type { ProtocolAdapter } from '../protocol/agent-events.js';
import type { SocketClose } from '../transport/close-codes.js';
import type { SocketOpenOptions } from '../transport/socket-transport.js';
import type { ToolCall, ToolResult } from './client-tools.js';
import type { ReconnectPolicy } from './reconnect.js';
import type {
  CallMode,
  CallVariables,
  ConnectPhase,
  DisconnectReason,
  SessionInfo,
  SessionSnapshot,
  SessionStatus,
  TranscriptEntry,
} from './session-types.js';
import type { TokenProvider } from './token.js';

/** One call's settings: the agent, how to reach it, and the page's tools. */
export interface SessionConfig {
  agentId: string;
  mode: CallMode;
  variables: CallVariables;
  /** Default agent socket URL; the token endpoint's `url` overrides it. */
  serverUrl: string;
  tokenProvider: TokenProvider;
  adapter?: ProtocolAdapter;
  audio?: Omit<AudioEngineOptions, 'muted'>;
  muted?: boolean;
  /** How long the agent may take to announce the session once the socket is open. */
  sessionTimeoutMs?: number;
  /** How long `stop()` waits for the server to confirm the close before closing the socket itself. */
  closeTimeoutMs?: number;
  /** The page's client tools (`ClientTools`), declared once the session starts; checked then. */
  tools?: unknown;
  /**
   * How a connection that drops during the call is restored (`reconnect="auto"`): defaults for what
   * is left out. `false`: never; the call ends with `connection-lost`.
   */
  reconnect?: Partial<ReconnectPolicy> | false;
  /** How long the token endpoint may take to answer (with `token-endpoint`, not a `tokenProvider`). Default 10 s. */
  tokenTimeoutMs?: number;
  /** Bytes the socket may hold unsent before microphone frames wait (and then the oldest are dropped). */
  maxBufferedBytes?: number;
}

/** What the session tells its subscribers: each change, as it happens. */
export type SessionEvent =
  | { type: 'status'; status: SessionStatus; previous: SessionStatus }
  | { type: 'phase'; phase: ConnectPhase }
  | { type: 'transcript'; entry: TranscriptEntry }
  | { type: 'speaking'; speaking: boolean }
  /** An agent reply ended: `playedMs` of it was heard; `interrupted` by a barge-in. */
  | { type: 'reply'; playedMs: number; interrupted: boolean }
  | { type: 'suspended'; suspended: boolean }
  | { type: 'error'; error: VoiceAgentError }
  | { type: 'connect'; info: SessionInfo }
  /** The connection dropped: try `attempt` (1-based) to restore it begins, with a fresh token. */
  | { type: 'reconnecting'; attempt: number }
  /** While reconnecting, the browser went offline (the tries wait) or came back online. */
  | { type: 'offline'; offline: boolean }
  /** The call goes on over a new connection: the agent started a new session (`info`). */
  | { type: 'reconnected'; info: SessionInfo }
  /** The uplink fell behind, dropping the oldest microphone audio (`slow`), or caught up again. */
  | { type: 'network-slow'; slow: boolean }
  | { type: 'disconnect'; reason: DisconnectReason }
  /** The agent confirmed the client tools: `snapshot.acceptedTools` holds the names it took. */
  | { type: 'tools-accepted'; names: readonly string[] }
  /**
   * The agent calls a client tool the page has, which runs next unless a listener calls `decline()`
   * (synchronously): then the agent is told the page declined.
   */
  | { type: 'tool-call'; call: ToolCall; decline(): void }
  /** A tool call was answered (or, fire-and-forget or after the call ended, settled without an answer). */
  | { type: 'tool-result'; result: ToolResult };

/** Hears each session event, with the snapshot after it. */
export type SessionListener = (event: SessionEvent, snapshot: SessionSnapshot) => void;


/** The parts of AudioEngine the session uses. */
export interface SessionAudio {
  openMicrophone(signal?: AbortSignal): Promise<void>;
  start(sampleRate: number, signal?: AbortSignal): Promise<void>;
  onFrame(listener: (pcm: Int16Array) => void): () => void;
  onMicrophoneLost(listener: () => void): () => void;
  onDeviceLost(listener: (error: VoiceAgentError) => void): () => void;
  setInputDevice(id: string): Promise<void>;
  setOutputDevice(id: string): Promise<void>;
  onPlayback(listener: (event: PlaybackEvent) => void): () => void;
  onSuspend(listener: (suspended: boolean) => void): () => void;
  enqueue(pcm: Int16Array): void;
  endReply(): void;
  mark(reached: () => void): void;
  interrupt(): void;
  resume(): void;
  setMuted(muted: boolean): void;
  close(): Promise<void>;
  readonly inputLevel: number;
  readonly outputLevel: number;
}

/** The parts of SocketTransport the session uses. */
export interface SessionSocket {
  readonly isOpen: boolean;
  readonly bufferedAmount: number;
  send(frame: string | ArrayBuffer): boolean;
  onFrame(listener: (frame: string | ArrayBuffer) => void): () => void;
  onClose(listener: (close: SocketClose) => void): () => void;
  close(code?: number, reason?: string): void;
}

/** Platform seams: replaced in unit tests, real in the browser. */
export interface SessionDeps {
  createAudio(options: AudioEngineOptions): SessionAudio;
  openSocket(url: string, options: SocketOpenOptions): Promise<SessionSocket>;
}
