/**
 * Creates a call's AudioContext and asks it to run. Call it inside the user's gesture: iOS and Safari
 * start audio only from one. Throws as the constructor does.
 */
export function createAudioContext(sampleRate?: number): AudioContext {
  const init: AudioContextOptions = { latencyHint: 'interactive' };
  if (sampleRate) init.sampleRate = sampleRate;
  const context = new AudioContext(init);
  void context.resume().catch(() => {});
  return context;
}
