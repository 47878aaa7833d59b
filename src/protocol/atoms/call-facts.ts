/**
 * What an Atoms call is, as the browser and the local agent both need it: the call modes and the
 * longest text a client may send. Import-free, so code for any runtime (the browser, Node) can use it.
 */

/** The call modes: `webcall`, a voice call (microphone and speaker, text also accepted); `chat`, text only. */
export const CALL_MODES = ['webcall', 'chat'] as const;

/** `webcall`: a voice call (microphone and speaker). `chat`: text only, no microphone. */
export type CallMode = (typeof CALL_MODES)[number];

/** Longest `input_text.send` text, and longest string call variable, a client may send. */
export const MAX_TEXT_LENGTH = 4000;
