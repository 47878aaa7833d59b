// Only the error class from the side-effect-free entry: the bundle must not carry Lit or the element.
import { VoiceAgentError } from 'voice-agent-widget/element';

document.getElementById('root')!.textContent = new VoiceAgentError('config-invalid', 'Only the error class was imported.').code;
