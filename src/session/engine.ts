/**
 * The call engine: the session with its audio, protocol and transport, in a module of its own. The
 * element renders without it and loads it once the page is idle, when the pointer or focus comes to
 * the widget, or at the first start, whichever comes first.
 */
export { VoiceSession } from './voice-session.js';
export { endpointTokenProvider } from './token.js';
