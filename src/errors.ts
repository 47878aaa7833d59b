/**
 * Stable error codes: what `va-error` carries in `detail.code`. Pages may switch on them; they never
 * change meaning. The element turns each into a sentence telling the user what to do.
 */
export type VoiceAgentErrorCode =
  /**
   * The element is misconfigured: missing token endpoint, bad `variables` JSON, an unknown `mode`, a
   * server URL that is not `wss:` (`ws:` only on localhost), or what looks like a secret API key
   * (`sk_…`) in a setting or in the token answer (the message names where, never the key).
   */
  | 'config-invalid'
  /** The user or the browser refused the microphone (including an iframe without `allow="microphone"`). */
  | 'mic-denied'
  /** No microphone could be opened (none present, in use elsewhere, an insecure page), or it stopped during the call. */
  | 'mic-unavailable'
  /**
   * The chosen microphone or speaker went away, or could not be used when the call started: the call
   * goes on with the default device. Never fatal.
   */
  | 'device-lost'
  /** The AudioContext or its worklets could not start. */
  | 'audio-failed'
  /** The page's token endpoint failed, timed out, or answered something unusable. */
  | 'token-failed'
  /** The agent socket could not be opened, or closed before the session started. */
  | 'socket-failed'
  /** The socket opened but the agent never announced the session. */
  | 'session-timeout'
  /**
   * The connection dropped during a call and could not be restored (with `reconnect="auto"`, after
   * every try; a drop is never retried with `reconnect="off"`).
   */
  | 'connection-lost'
  /**
   * The network cannot carry the call's audio: the socket's send buffer stayed full and the oldest
   * microphone audio was dropped (the agent misses some of what the user says). Never fatal; reported
   * once a call.
   */
  | 'network-slow'
  /** The agent server reported an error (fatal ones end the call). */
  | 'server-error'
  /** The agent sent a frame that could not be read; it was skipped and the call goes on. */
  | 'protocol-error'
  /**
   * The agent refused the page's client tools (`tools`): a name an enabled dashboard tool already has
   * (`tool_name_conflict`), tools the agent's configuration manages (`client_tools_managed_by_config`),
   * or definitions it could not accept (`invalid_tools`); the message names the server's code. Never
   * fatal: the call goes on without them.
   */
  | 'tools-rejected';

/**
 * Why, where one code has several causes that call for different advice to the user:
 * `frame-policy` (an embedding iframe without `allow="microphone"`), `framed` (denied in a frame whose
 * policy the browser does not tell: the visitor or the embedding iframe), `insecure-context` (not https),
 * `no-device` (no microphone at all), `ended` (the microphone stopped during the call);
 * for `device-lost`, which device: `microphone` or `speaker`; for `audio-failed`, `worklets` (the
 * worklet files could not be loaded: the site's setup, not the visitor's device); for
 * `config-invalid`, `files` (the call engine's file beside voice-agent.js could not be loaded).
 */
export type VoiceAgentErrorReason = 'frame-policy' | 'framed' | 'insecure-context' | 'no-device' | 'ended' | 'microphone' | 'speaker' | 'worklets' | 'files';

export interface VoiceAgentErrorOptions {
  fatal?: boolean;
  reason?: VoiceAgentErrorReason;
  cause?: unknown;
  /** HTTP status of a failed token request. */
  status?: number;
  /** WebSocket close code, where one ended the session. */
  closeCode?: number;
}

export class VoiceAgentError extends Error {
  override readonly name = 'VoiceAgentError';
  readonly fatal: boolean;
  readonly reason?: VoiceAgentErrorReason;
  readonly status?: number;
  readonly closeCode?: number;

  constructor(readonly code: VoiceAgentErrorCode, message: string, options: VoiceAgentErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.fatal = options.fatal ?? true;
    this.reason = options.reason;
    this.status = options.status;
    this.closeCode = options.closeCode;
  }
}

/** Wraps anything thrown into a VoiceAgentError, keeping VoiceAgentErrors as they are. */
export function toVoiceAgentError(error: unknown, fallback: VoiceAgentErrorCode): VoiceAgentError {
  if (error instanceof VoiceAgentError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new VoiceAgentError(fallback, message, { cause: error });
}

export function isAbortError(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}
