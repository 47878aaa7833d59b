/**
 * The worklet files beside this module (`worklets/` in the npm package and on the CDN), as one
 * literal `new URL(…, import.meta.url)` per file: bundlers (Vite, webpack) see these, copy the files
 * into the app and rewrite the URLs. In the classic-script build the base is the script's own URL.
 *
 * `?no-inline` keeps Vite from turning a file under its inline limit (4 KB) into a `data:` URL, which
 * a strict Content-Security-Policy refuses; Vite drops it from the URL it emits, and a server ignores it.
 */
import type { WorkletName } from './audio/worklet-loader.js';

export const WORKLET_URLS: Readonly<Record<WorkletName, string>> = {
  'capture-processor': new URL('./worklets/capture-processor.js?no-inline', import.meta.url).href,
  'playback-processor': new URL('./worklets/playback-processor.js?no-inline', import.meta.url).href,
};
