/** Main-thread PCM16 ⇄ base64, little-endian on the wire whatever the host's byte order. */

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const CHUNK = 0x8000;

export function pcm16ToBase64(pcm: Int16Array): string {
  const bytes = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const ordered = LITTLE_ENDIAN_HOST ? bytes : swapPairs(bytes);
  let binary = '';
  for (let i = 0; i < ordered.length; i += CHUNK) {
    binary += String.fromCharCode.apply(null, ordered.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return btoa(binary);
}

/** Decodes base64 PCM16 LE. Throws a TypeError on invalid base64 or an odd byte count. */
export function base64ToPcm16(base64: string): Int16Array {
  let binary: string;
  try {
    binary = atob(base64);
  } catch {
    throw new TypeError('audio is not valid base64');
  }
  if (binary.length % 2 !== 0) throw new TypeError(`audio has an odd byte count (${binary.length})`);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Int16Array((LITTLE_ENDIAN_HOST ? bytes : swapPairs(bytes)).buffer);
}

function swapPairs(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    out[i] = bytes[i + 1];
    out[i + 1] = bytes[i];
  }
  return out;
}
