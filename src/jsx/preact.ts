/**
 * `<voice-agent>` in Preact's JSX types. Opt in once, e.g. in a `.d.ts` file of the app:
 * `import type {} from 'voice-agent-widget/jsx/preact';`
 */
import type { JSX as PreactJSX } from 'preact';
import type { VoiceAgentElement } from '../element/voice-agent-element.js';
import type { VoiceAgentJsxProps } from './props.js';

export type { VoiceAgentJsxProps, VoiceAgentEventProps } from './props.js';

declare module 'preact' {
  namespace JSX {
    interface IntrinsicElements {
      'voice-agent': Omit<PreactJSX.HTMLAttributes<VoiceAgentElement>, keyof VoiceAgentJsxProps> & VoiceAgentJsxProps;
    }
  }
}
