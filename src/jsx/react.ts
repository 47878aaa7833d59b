/**
 * `<voice-agent>` in React 19's JSX types. Opt in once, e.g. in a `.d.ts` file of the app:
 * `import type {} from 'voice-agent-widget/jsx/react';`
 */
import type { DetailedHTMLProps as ReactProps, HTMLAttributes as ReactHTMLAttributes } from 'react';
import type { VoiceAgentElement } from '../element/voice-agent-element.js';
import type { VoiceAgentJsxProps } from './props.js';

export type { VoiceAgentJsxProps, VoiceAgentEventProps } from './props.js';

declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'voice-agent': ReactProps<ReactHTMLAttributes<VoiceAgentElement>, VoiceAgentElement> & VoiceAgentJsxProps;
    }
  }
}
