import { mount } from 'svelte';
import VoiceAgentCall from './recipes/svelte/VoiceAgentCall.svelte';

mount(VoiceAgentCall, { target: document.getElementById('root')!, props: { agentId: 'local-echo' } });
