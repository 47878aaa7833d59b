/**
 * The single-file build's entry (`dist/voice-agent.standalone.js`): the default bundle, with both
 * audio worklets inside as a fallback for a site that serves this one file without its `worklets/`
 * folder (blob: or data: URLs, so a strict Content-Security-Policy still needs the files).
 */
import { inlineWorklets } from 'virtual:worklet-sources';
import { setDefaultWorkletSources } from './audio/worklet-loader.js';

export * from './voice-agent.js';

setDefaultWorkletSources({ baseUrl: new URL('./worklets/', import.meta.url).href, inline: inlineWorklets });
