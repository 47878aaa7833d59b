/** @jsxImportSource preact */
import { render } from 'preact';
import { VoiceAgentCall } from './recipes/preact/VoiceAgentCall.js';

render(<VoiceAgentCall agentId="local-echo" />, document.getElementById('root')!);
