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
 * The route for `mode`. An echo-safe route that cannot be made (no WebRTC, or the loopback does not
 * connect) falls back to the direct one: the call is not lost over it.
 */
export const playbackRoute = (context: AudioContext, mode?: PlaybackMode): Promise<PlaybackRoute> =>
  mode == 'echo-safe' ? echoSafeRoute(context).catch(() => directRoute(context)) : Promise.resolve(directRoute(context));

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

/**
 * Plays through a loopback pair of RTCPeerConnections into an `<audio>` element: audio a peer
 * connection plays is the echo canceller's reference wherever the browser has one, which Web Audio's
 * output is not in every browser. Resolves once the pair is connected, so no audio is lost at the
 * start; rejects (having released everything) if it does not connect within 3 s.
 */
export async function echoSafeRoute(context: AudioContext): Promise<PlaybackRoute> {
  // Peers first: where WebRTC is missing this throws before anything needs releasing.
  const peers = [new RTCPeerConnection(), new RTCPeerConnection()];
  const [sender, receiver] = peers;
  const input = new MediaStreamAudioDestinationNode(context);
  const audio = new Audio();
  const route: PlaybackRoute = {
    input,
    setSinkId: (id) => audio.setSinkId(id),
    close() {
      audio.pause();
      audio.srcObject = null;
      // Closing a peer connection leaves the tracks it received live: every track is stopped here.
      for (const peer of peers) {
        for (const { track } of [...peer.getSenders(), ...peer.getReceivers()]) track?.stop();
        peer.close();
      }
    },
  };
  peers.forEach((peer, i) => (peer.onicecandidate = ({ candidate }) => candidate && peers[1 - i].addIceCandidate(candidate)));
  receiver.ontrack = ({ track }) => (audio.srcObject = new MediaStream([track]));
  sender.addTrack(input.stream.getTracks()[0]);
  try {
    // Offer and answer: each side in turn describes itself and the other takes its description.
    for (const i of [0, 1]) {
      await peers[i].setLocalDescription();
      await peers[1 - i].setRemoteDescription(peers[i].localDescription!);
    }
    await new Promise((resolve, reject) => {
      setTimeout(reject, 3000);
      receiver.onconnectionstatechange = () => receiver.connectionState == 'connected' && resolve(audio.play());
    });
  } catch (error) {
    route.close();
    throw error;
  }
  return route;
}
