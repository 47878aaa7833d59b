/**
 * `<voice-agent>` as a JSX element, for any framework's JSX types: the attributes as kebab-case
 * props (strings, like in HTML), the object properties as objects (React 19 and Preact set a prop as
 * a property when the element has one), and each `va-*` event as an `on` + event-name prop
 * (`onva-error`), the spelling React 19 and Preact turn into `addEventListener('va-error', …)`.
 */
import type { PlaybackMode } from '../audio/playback-route.js';
import type { VoiceAgentStrings } from '../element/strings.js';
import type { Layout, Position, ReconnectMode, Theme, TranscriptVisibility } from '../element/voice-agent-element.js';
import type { VoiceAgentEventMap } from '../events.js';
import type { ClientTools } from '../session/client-tools.js';
import type { CallMode, CallVariables } from '../session/session-types.js';
import type { TokenProvider } from '../session/token.js';

/** The element's own props; a framework's HTML attributes (class, style, id, ref…) come on top. */
export interface VoiceAgentJsxProps extends VoiceAgentEventProps {
  'agent-id'?: string;
  'token-endpoint'?: string;
  'server-url'?: string;
  mode?: CallMode;
  /** Per-call variables as an object (the element's `variables` property). */
  variables?: CallVariables;
  muted?: boolean;
  'input-device-id'?: string;
  'output-device-id'?: string;
  playback?: PlaybackMode;
  'worklet-base-url'?: string;
  layout?: Layout;
  position?: Position;
  open?: boolean;
  'agent-name'?: string;
  'show-transcript'?: TranscriptVisibility;
  theme?: Theme;
  'prebuffer-ms'?: number | string;
  'max-buffer-ms'?: number | string;
  reconnect?: ReconnectMode;
  /** Words to replace, as an object (a locale module's default export). */
  strings?: Partial<VoiceAgentStrings>;
  tokenProvider?: TokenProvider;
  /** Client tools the agent may call (the element's `tools` property). */
  tools?: ClientTools;
}

/** `onva-error`, `onva-status-change`, …: one listener prop per event, typed with its event class. */
export type VoiceAgentEventProps = {
  [K in keyof VoiceAgentEventMap as `on${K}`]?: (event: VoiceAgentEventMap[K]) => void;
};
