/**
 * The browser bundle's entry (`dist/voice-agent.js`): registers `<voice-agent>` and points the audio
 * worklets at the files built beside it (`worklets/`). A site that serves this one file alone uses
 * `voice-agent.standalone.js` instead, which carries the worklets inside.
 */
import { setDefaultWorkletSources } from './audio/worklet-loader.js';
import { VoiceAgentElement } from './element/voice-agent-element.js';

setDefaultWorkletSources({ baseUrl: new URL('./worklets/', import.meta.url).href });

// Loading the script twice (two embeds on one page) must not throw.
if (!customElements.get('voice-agent')) customElements.define('voice-agent', VoiceAgentElement);

export * from './index.js';

declare global {
  interface HTMLElementTagNameMap {
    'voice-agent': VoiceAgentElement;
  }
}
