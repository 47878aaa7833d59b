import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { VoiceAgentCall } from './recipes/react/VoiceAgentCall.js';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <VoiceAgentCall agentId="local-echo" />
  </StrictMode>,
);
