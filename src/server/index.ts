/**
 * The Node side of `voice-agent-widget` (`voice-agent-widget/server`):
 *
 * - {@link createTokenHandler}: the endpoint a site mounts on its backend to mint short-lived voice
 *   tokens with its secret Atoms key;
 * - {@link LocalAgent}: an Atoms-compatible agent on loopback for development and tests, no key needed;
 * - the synthetic voice and PCM helpers the local agent speaks with, handy for test fixtures.
 */
export { createTokenHandler } from './token-handler.js';
export type { TokenErrorCode, TokenHandler, TokenHandlerOptions, VoiceTokenResponse } from './token-handler.js';
export { LocalAgent } from './local-agent.js';
export { fliteSpeaker } from './flite.js';
export type { Speaker } from './flite.js';
export type { LocalAgentOptions } from './local-agent.js';
export type { CallMode, CallVariables, SessionStats } from './call-types.js';
export { TurnDetector, frameRms } from './turn-detector.js';
export type { TurnDetectorOptions, TurnEvent } from './turn-detector.js';
export { concatPcm, encodeWav, silence, synthesizeSpeech } from './voice.js';
export type { SpeechOptions, SpokenWord, SynthesizedSpeech } from './voice.js';
