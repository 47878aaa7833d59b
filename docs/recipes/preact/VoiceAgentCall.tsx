/** @jsxImportSource preact */
// Preact: like React 19, props become properties where the element has one, and `onva-*` props
// listen to its events.
import { useState } from 'preact/hooks';
import 'voice-agent-widget';
import type {} from 'voice-agent-widget/jsx/preact';
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
        variables={{ greeting: 'Hello from Preact!' }}
        onva-status-change={(event) => setStatus(event.detail.status)}
        onva-error={(event) => setProblem(event.detail.message)}
      />
      <p data-status={status}>{problem || status}</p>
    </section>
  );
}
