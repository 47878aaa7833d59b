// The side-effect-free entry under a tag name of the app's own: nothing registers <voice-agent>.
import { VoiceAgentElement } from 'voice-agent-widget/element';

customElements.define('acme-voice', VoiceAgentElement);
const el = document.createElement('acme-voice');
el.setAttribute('agent-id', 'local-echo');
el.setAttribute('token-endpoint', '/api/voice-token');
el.setAttribute('layout', 'inline');
document.getElementById('root')!.append(el);
