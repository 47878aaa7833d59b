// What the published types refuse (`tsc` fails if any line under a @ts-expect-error compiles), and what they promise.
import type {} from 'voice-agent-widget/jsx/react';

export const refused = [
  // @ts-expect-error: mode is 'webcall' or 'chat'
  <voice-agent mode="video" />,
  // @ts-expect-error: the handler receives a VaErrorEvent, whose detail has no status
  <voice-agent onva-error={(event) => event.detail.status} />,
  // @ts-expect-error: variables is an object (the property), not JSON text
  <voice-agent variables='{"name":"Ada"}' />,
  // @ts-expect-error: open is a boolean
  <voice-agent open="yes" />,
];

// And the DOM's own typing: addEventListener knows each va-* event.
const el = document.createElement('voice-agent');
el.addEventListener('va-transcript', (event) => event.detail.text.toUpperCase());
// @ts-expect-error: a transcript entry has no status
el.addEventListener('va-transcript', (event) => event.detail.status);

// The event map names every published event, and nothing else.
import type { PUBLIC_EVENT_NAMES, VoiceAgentEventMap } from 'voice-agent-widget';
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const eventMapComplete: Same<keyof VoiceAgentEventMap, (typeof PUBLIC_EVENT_NAMES)[number]> = true;
