import { createApp } from 'vue';
import VoiceAgentCall from './recipes/vue/VoiceAgentCall.vue';

createApp(VoiceAgentCall, { agentId: 'local-echo' }).mount('#root');
