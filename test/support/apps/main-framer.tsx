import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import VoiceAgent from './framer/VoiceAgent.js';

(window as unknown as { framerControls: unknown }).framerControls = (VoiceAgent as unknown as { propertyControls: unknown }).propertyControls;
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <VoiceAgent {...VoiceAgent.defaultProps} agentId="local-echo" tokenEndpoint="/api/voice-token" agentName="Echo" accent="#0f766e" />
  </StrictMode>,
);
