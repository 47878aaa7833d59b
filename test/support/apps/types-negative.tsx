// Misuse the published JSX types refuse: `tsc` fails if any line under a @ts-expect-error compiles.
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
