/**
 * Where agent audio plays: `direct` to the AudioContext's own output; `echo-safe` through a loopback
 * RTCPeerConnection into an `<audio>` element, which an echo canceller that ignores Web Audio still
 * takes as its reference; `auto` (the default) is `direct` everywhere. Measured through a real loop
 * (`node bench/echo.mjs`): Chromium's chrome-wide echo cancellation, on by default, and Firefox's
 * canceller already cancel Web Audio, so the loopback gains nothing there and adds 60–90 ms. Where
 * chrome-wide echo cancellation is off, only `echo-safe` is cancelled at all.
 */
export type PlaybackMode = 'direct' | 'echo-safe' | 'auto';

/**
 * The route for `mode`. An echo-safe route that cannot be made (no WebRTC, the loopback does not
 * connect, or its module does not load) falls back to the direct one: the call is not lost over it.
 * Its code loads only when asked for.
 */
export const playbackRoute = (context: AudioContext, mode?: PlaybackMode): Promise<PlaybackRoute> =>
  mode == 'echo-safe'
    ? import('./echo-safe-route.js').then(({ echoSafeRoute }) => echoSafeRoute(context)).catch(() => directRoute(context))
    : Promise.resolve(directRoute(context));

/** Where the player's output goes: `input` is the node the player connects to. */
export interface PlaybackRoute {
  readonly input: AudioNode;
  /** Plays on another output device (`HTMLMediaElement.setSinkId`); routes without one play on the context's. */
  setSinkId?(id: string): Promise<void>;
  /** Releases everything the route opened. Idempotent. */
  close(): void;
}

/** Web Audio's own output, `context.destination`. */
export function directRoute(context: AudioContext): PlaybackRoute {
  return { input: context.destination, close() {} };
}
