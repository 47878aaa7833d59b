// A Framer code component for <voice-agent>: in Framer, Assets → Code → New file, paste this file,
// then drop "VoiceAgent" on the canvas and fill in the properties panel. The widget itself loads
// from the CDN; the token endpoint must allow your Framer site's origin (see README.md here).
import type { CSSProperties } from 'react';
import { addPropertyControls, ControlType } from 'framer';
import 'https://cdn.jsdelivr.net/npm/voice-agent-widget@0/dist/cdn/voice-agent.js';

interface Props {
  agentId: string;
  tokenEndpoint: string;
  agentName: string;
  layout: 'inline' | 'floating';
  theme: 'auto' | 'light' | 'dark';
  accent: string;
  showTranscript: 'auto' | 'always' | 'never';
  style?: CSSProperties;
}

/**
 * @framerSupportedLayoutWidth any
 * @framerSupportedLayoutHeight any
 * @framerIntrinsicWidth 380
 * @framerIntrinsicHeight 520
 */
export default function VoiceAgent({ agentId, tokenEndpoint, agentName, layout, theme, accent, showTranscript, style }: Props) {
  return (
    <voice-agent
      agent-id={agentId}
      token-endpoint={tokenEndpoint}
      agent-name={agentName}
      layout={layout}
      theme={theme}
      show-transcript={showTranscript}
      style={{ ...style, display: 'block', '--va-accent': accent } as CSSProperties}
    />
  );
}

VoiceAgent.defaultProps = {
  agentId: '',
  tokenEndpoint: 'https://your-site.example/api/voice-token',
  agentName: 'Assistant',
  layout: 'inline',
  theme: 'auto',
  accent: '#4338ca',
  showTranscript: 'auto',
} satisfies Omit<Props, 'style'>;

addPropertyControls(VoiceAgent, {
  agentId: { type: ControlType.String, title: 'Agent ID' },
  tokenEndpoint: { type: ControlType.String, title: 'Token endpoint' },
  agentName: { type: ControlType.String, title: 'Agent name' },
  layout: { type: ControlType.Enum, title: 'Layout', options: ['inline', 'floating'], optionTitles: ['Inline', 'Floating button'] },
  theme: { type: ControlType.Enum, title: 'Theme', options: ['auto', 'light', 'dark'], optionTitles: ['Auto', 'Light', 'Dark'] },
  accent: { type: ControlType.Color, title: 'Accent' },
  showTranscript: { type: ControlType.Enum, title: 'Transcript', options: ['auto', 'always', 'never'], optionTitles: ['Auto', 'Always', 'Never'] },
});
