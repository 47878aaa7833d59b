/**
 * `voice-agent-widget` (and the CDN's `voice-agent.js`): registers `<voice-agent>` and exports
 * everything public. The audio worklets load from the files beside it (`worklets/`); see
 * `worklet-urls.ts`.
 */
import { VoiceAgentElement } from './element/voice-agent-element.js';

// Loading the script twice (two embeds on one page, or the npm module and a CDN script) must not throw.
if (!customElements.get('voice-agent')) customElements.define('voice-agent', VoiceAgentElement);

export * from './element.js';

declare global {
  interface HTMLElementTagNameMap {
    'voice-agent': VoiceAgentElement;
  }
}
