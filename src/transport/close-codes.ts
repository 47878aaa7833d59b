/**
 * What a WebSocket close means for a call, in one place: a pure function of the close, of how far the
 * call had come, and of whether the server had already said why it ended (its `session.closed`).
 */
import { VoiceAgentError, type VoiceAgentErrorCode } from '../errors.js';
import { SETUP_FAILED_CLOSE_CODE } from '../protocol/atoms/wire-facts.js';

/** A WebSocket close, as the browser reports it. */
export interface SocketClose {
  code: number;
  reason: string;
}

/**
 * How far the call had come when the socket closed: `opening` (the handshake had not finished),
 * `starting` (open, the agent had not announced the session yet) or `live` (the call was under way).
 */
export type CloseStage = 'opening' | 'starting' | 'live';

/**
 * The call ended as it should: `reason` is the server's `session.closed` reason, or
 * `websocket_closed` for a normal close (1000) the server did not explain.
 */
export interface CleanClose {
  readonly reason: string;
  readonly error?: undefined;
}

/** The close is a failure: the call ends with reason `error` and this error. */
export interface FailedClose {
  readonly reason: 'error';
  readonly error: VoiceAgentError;
}

/** What a close means for the call: a clean end, or a failure with its error. */
export type CloseOutcome = CleanClose | FailedClose;

/** The WebSocket code of a normal close. */
const NORMAL_CLOSURE = 1000;

/**
 * Maps a socket close to the call's outcome. Before the session started (`opening`, `starting`) every
 * close is a `socket-failed` failure. During the call (`live`), a close after the server's
 * `session.closed` (`serverReason`) ends the call cleanly with that reason, whatever the code; so does a
 * normal close (1000), as `websocket_closed`. A bare 4000 (the server's setup failure) is a
 * `server-error`; any other code (1001, 1005, 1006, 1011, …) is `connection-lost`. Each error carries
 * the close code.
 */
export function closeOutcome(close: SocketClose, stage: 'opening' | 'starting'): FailedClose;
export function closeOutcome(close: SocketClose, stage: CloseStage, serverReason?: string): CloseOutcome;
export function closeOutcome({ code, reason }: SocketClose, stage: CloseStage, serverReason?: string): CloseOutcome {
  const suffix = reason ? `: ${reason}` : '';
  const fail = (errorCode: VoiceAgentErrorCode, message: string): FailedClose => ({
    reason: 'error',
    error: new VoiceAgentError(errorCode, message, { closeCode: code }),
  });
  switch (stage) {
    case 'opening':
      return fail('socket-failed', `The agent server refused the connection (close code ${code}).`);
    case 'starting':
      return fail('socket-failed', `The agent server closed the connection before the session started (code ${code}${suffix}).`);
    case 'live':
      if (serverReason !== undefined) return { reason: serverReason };
      if (code === NORMAL_CLOSURE) return { reason: 'websocket_closed' };
      if (code === SETUP_FAILED_CLOSE_CODE) return fail('server-error', `The agent server ended the session (code ${code}${suffix}).`);
      return fail('connection-lost', `The connection to the agent was lost (code ${code}${suffix}).`);
  }
}
