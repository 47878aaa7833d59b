/**
 * Helpers for the bench's in-page measurements (bench/audio.mjs), served as `/bench/page-tools.js`
 * and imported by the page.
 */

/**
 * Connects the test suite's output tap worklet (`/bench/output-tap.js`) to `player`: `read()` answers
 * the runs of samples louder than −60 dBFS and the frame the audio thread has reached.
 */
export async function tapOutput(player) {
  await player.context.audioWorklet.addModule('/bench/output-tap.js');
  const tap = new AudioWorkletNode(player.context, 'test-output-tap', { numberOfInputs: 1, numberOfOutputs: 0 });
  player.connect(tap);
  return () =>
    new Promise((resolve) => {
      tap.port.onmessage = (event) => resolve(event.data);
      tap.port.postMessage('read');
    });
}

/** Resolves once `predicate` (which may be async) is true, checking every `ms`. */
export async function until(predicate, ms = 10) {
  while (!(await predicate())) await new Promise((resolve) => setTimeout(resolve, ms));
}
