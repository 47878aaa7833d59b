/**
 * `voice-agent-widget` (and the CDN's `voice-agent.js`): registers `<voice-agent>` and exports the
 * element class, its events and errors, and every public type. The helpers for custom setups (a token
 * provider for an endpoint, the Atoms adapter, worklet sources) come from `voice-agent-widget/element`:
 * left out here, the call engine they belong to stays out of the first download (see session/engine.ts).
 * The audio worklets load from the files beside the engine (`worklets/`; see `worklet-urls.ts`).
 */
import { VoiceAgentElement } from './element/voice-agent-element.js';

// Loading the script twice (two embeds on one page, or the npm module and a CDN script) must not throw.
if (!customElements.get('voice-agent')) customElements.define('voice-agent', VoiceAgentElement);

export { VoiceAgentElement, DEFAULT_SERVER_URL } from './element/voice-agent-element.js';
export * from './events.js';
export { VoiceAgentError } from './errors.js';
export type * from './element.js';

declare global {
  interface HTMLElementTagNameMap {
    'voice-agent': VoiceAgentElement;
  }
}
