/**
 * `voice-agent-widget/local-agent`: an Atoms-compatible agent on loopback for development and tests,
 * no key needed (it needs the optional peer dependency `ws`), with the synthetic voice and PCM
 * helpers it speaks with, handy for test fixtures.
 */
export { LocalAgent } from './local-agent.js';
export type { LocalAgentFault, LocalAgentOptions, LocalAgentProfile } from './local-agent.js';
export { fliteSpeaker } from './flite.js';
export type { Speaker } from './flite.js';
export type { CallMode, CallVariables, SessionStats, ToolCallRecord, ToolDeclarationRecord } from './call-types.js';
export { TurnDetector, frameRms } from './turn-detector.js';
export type { TurnDetectorOptions, TurnEvent } from './turn-detector.js';
export { concatPcm, encodeWav, silence, synthesizeSpeech } from './voice.js';
export type { SpeechOptions, SpokenWord, SynthesizedSpeech } from './voice.js';
