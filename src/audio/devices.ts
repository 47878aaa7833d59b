/**
 * Microphones and speakers: listing them, following `devicechange`, opening the chosen microphone
 * (or the default one when the chosen cannot be used), and pointing output at a chosen speaker.
 * Holds no state: the audio engine and the device menu keep their own.
 */

/** Plays on an output device of its own choosing: an AudioContext (Chromium) or a media element. */
export interface SinkTarget {
  setSinkId?(sinkId: string): Promise<void>;
}

declare global {
  interface AudioContext {
    /** Chromium only, so far: plays the context on another output device. */
    setSinkId?(sinkId: string): Promise<void>;
  }
}

/** Whether an AudioContext can play on a chosen output device (Chromium; Firefox and Safari cannot). */
export const outputSelectable = (): boolean => 'setSinkId' in AudioContext.prototype;

/**
 * The devices of one kind the browser lists: ids and labels only once the page may use the
 * microphone (before, at most one entry without either); none where it cannot list them.
 */
export async function listDevices(kind: MediaDeviceKind): Promise<MediaDeviceInfo[]> {
  const all = (await navigator.mediaDevices?.enumerateDevices().catch(() => undefined)) ?? [];
  return all.filter((device) => device.kind === kind);
}

/** Calls `listener` when a device is plugged in or out, or the list changes otherwise. Returns the unsubscribe. */
export function watchDevices(listener: () => void): () => void {
  const devices = navigator.mediaDevices;
  devices?.addEventListener('devicechange', listener);
  return () => devices?.removeEventListener('devicechange', listener);
}

/** Whether the chosen device (`''`: the default, never missing) is no longer listed. */
export async function isMissing(kind: MediaDeviceKind, id: string): Promise<boolean> {
  return id !== '' && !(await listDevices(kind)).some((device) => device.deviceId === id);
}

/**
 * Opens a microphone: the chosen device exactly, or the default one when the chosen cannot be used
 * (gone, busy, never there). A refusal is not retried: that would ask the user again. Resolves with
 * the stream and whether it is the default instead of the chosen device.
 */
export async function openInput(
  getUserMedia: (constraints: MediaStreamConstraints) => Promise<MediaStream>,
  audio: MediaTrackConstraints,
  id: string,
): Promise<[MediaStream, boolean]> {
  if (id) {
    try {
      return [await getUserMedia({ audio: { ...audio, deviceId: { exact: id } } }), false];
    } catch (error) {
      const name = (error as Error | undefined)?.name;
      if (name === 'NotAllowedError' || name === 'SecurityError') throw error;
    }
  }
  return [await getUserMedia({ audio }), id !== ''];
}

/** Points every target that can choose its output at the device `id` (`''`: the default). */
export function setSink(targets: readonly (SinkTarget | undefined)[], id: string): Promise<unknown> {
  return Promise.all(targets.map((target) => target?.setSinkId?.(id)));
}
