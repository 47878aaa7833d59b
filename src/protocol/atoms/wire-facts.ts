/**
 * The Atoms wire's fixed names, as the browser's adapter and the local agent both use them: the type
 * of every frame each side sends, and the close code of a failed setup. Import-free, so code for any
 * runtime (the browser, Node) can use it.
 */

/** The `type` of each frame a client sends. */
export const CLIENT_FRAME = {
  /** Microphone audio, base64 PCM16 at the session rate. */
  audio: 'input_audio_buffer.append',
  /** Reserved, a no-op: turns come from the server's own detection. */
  commit: 'input_audio_buffer.commit',
  /** Typed text, a user turn. */
  text: 'input_text.send',
  /** Declares the page's client tools (without `tools`, a reserved no-op). */
  update: 'session.update',
  /** Answers a client tool call. */
  toolResult: 'function_call.result',
  /** Asks the server to end the session. */
  close: 'session.close',
} as const;

/** The `type` of each frame the agent sends. */
export const SERVER_FRAME = {
  /** The session exists: audio may flow. */
  created: 'session.created',
  /** The session ended, with its reason; the socket closes next. */
  closed: 'session.closed',
  /** Agent speech, base64 PCM16. */
  audio: 'output_audio.delta',
  /** The turn in progress so far (cumulative). */
  transcriptDelta: 'transcript.delta',
  /** A turn's final text. */
  transcript: 'transcript',
  /** The user talked over the agent. */
  interruption: 'interruption',
  startTalking: 'agent_start_talking',
  stopTalking: 'agent_stop_talking',
  /** The client tools were accepted. */
  updated: 'session.updated',
  /** The agent calls a client tool. */
  toolCall: 'function_call',
  error: 'error',
} as const;

/** The close code that follows a fatal setup error (an `error` frame whose code is an HTTP status). */
export const SETUP_FAILED_CLOSE_CODE = 4000;
