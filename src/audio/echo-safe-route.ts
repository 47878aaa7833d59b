/**
 * The `echo-safe` playback route (see playback-route.ts), in a module of its own: `auto` never picks
 * it, so pages that do not ask for it do not download it.
 */
import type { PlaybackRoute } from './playback-route.js';

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
