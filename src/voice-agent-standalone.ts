/**
 * The single-file builds' entry (`voice-agent.standalone.js` and the classic script
 * `voice-agent.iife.js`): `voice-agent.js` with both audio worklets inside, as a fallback for a site that
 * serves the one file without its `worklets/` folder (blob: or data: URLs, so a strict
 * Content-Security-Policy still needs the files).
 */
import { inlineWorklets } from 'virtual:worklet-sources';
import { setDefaultWorkletSources, getDefaultWorkletSources } from './audio/worklet-loader.js';

export * from './voice-agent.js';

setDefaultWorkletSources({ ...getDefaultWorkletSources(), inline: inlineWorklets });
