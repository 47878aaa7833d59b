// React 19: <voice-agent> is a custom element, so React sets its properties and listens to its
// `va-*` events directly (`onva-status-change` → addEventListener('va-status-change')).
import { useState } from 'react';
import 'voice-agent-widget';
import type {} from 'voice-agent-widget/jsx/react';
import type { SessionStatus } from 'voice-agent-widget';

export function VoiceAgentCall({ agentId }: { agentId: string }) {
  const [status, setStatus] = useState<SessionStatus>('disconnected');
  const [problem, setProblem] = useState('');
  return (
    <section>
      <voice-agent
        agent-id={agentId}
        token-endpoint="/api/voice-token"
        layout="inline"
        agent-name="Echo"
        variables={{ greeting: 'Hello from React!' }}
        onva-status-change={(event) => setStatus(event.detail.status)}
        onva-error={(event) => setProblem(event.detail.message)}
      />
      <p data-status={status}>{problem || status}</p>
    </section>
  );
}
