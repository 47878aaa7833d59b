import { css, unsafeCSS } from 'lit';

/** The dark palette's defaults; applied by `theme="dark"`, and by `theme="auto"` when the user prefers dark. */
const dark = unsafeCSS(`
  --_accent: var(--va-accent, #a5b4fc);
  --_accent-contrast: var(--va-accent-contrast, #1e1b4b);
  --_danger: var(--va-danger, #fca5a5);
  --_danger-contrast: var(--va-danger-contrast, #450a0a);
  --_surface: var(--va-surface, #111827);
  --_text: var(--va-text, #f3f4f6);
  --_muted-text: var(--va-muted-text, #a3adbd);
  --_border: var(--va-border, #374151);
  --_bubble-user: var(--va-bubble-user, #312e81);
  --_bubble-assistant: var(--va-bubble-assistant, #1f2937);
  --_shadow: var(--va-shadow, 0 12px 32px rgb(0 0 0 / 0.5), 0 2px 6px rgb(0 0 0 / 0.4));
  color-scheme: dark;
`);

/**
 * Public `--va-*` properties are read once, here, into private `--_*` aliases with their defaults;
 * every other rule reads only the aliases. Everything the page could pass down by inheritance is
 * set again on the widget's own boxes, so the host page's fonts and colours never leak in; a site
 * that wants its own font sets `--va-font: inherit` on the element.
 */
export const styles = css`
  :host {
    /* The default font; set on the host so a page's --va-font on the element wins, and its
       "inherit" (the custom property inheriting nothing) falls through to the page's own font. */
    --va-font: 400 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif;
    --_accent: var(--va-accent, #4338ca);
    --_accent-contrast: var(--va-accent-contrast, #ffffff);
    --_danger: var(--va-danger, #b91c1c);
    --_danger-contrast: var(--va-danger-contrast, #ffffff);
    --_surface: var(--va-surface, #ffffff);
    --_text: var(--va-text, #111827);
    --_muted-text: var(--va-muted-text, #4b5563);
    --_border: var(--va-border, #d1d5db);
    --_bubble-user: var(--va-bubble-user, #e0e7ff);
    --_bubble-assistant: var(--va-bubble-assistant, #f3f4f6);
    --_shadow: var(--va-shadow, 0 12px 32px rgb(17 24 39 / 0.18), 0 2px 6px rgb(17 24 39 / 0.12));
    --_focus: var(--va-focus, var(--_accent));
    --_radius: var(--va-radius, 16px);
    --_button-radius: var(--va-button-radius, 9999px);
    --_transcript-max-height: var(--va-transcript-max-height, 18rem);
    --_launcher-size: var(--va-launcher-size, 3.5rem);
    --_panel-width: var(--va-panel-width, 23rem);
    --_panel-height: var(--va-panel-height, 36rem);
    --_z-index: var(--va-z-index, 2147483000);
    --_offset-x: var(--va-offset-x, 1.25rem);
    --_offset-y: var(--va-offset-y, 1.25rem);
    color-scheme: light;
    display: contents;
  }
  :host([theme='dark']) {
    ${dark}
  }
  @media (prefers-color-scheme: dark) {
    :host(:not([theme='light'])) {
      ${dark}
    }
  }
  :host([layout='inline']) {
    display: block;
  }
  :host([hidden]) {
    display: none;
  }

  /* The reset: every property back to its initial value (the inherited ones included, so nothing
     the page sets reaches in), then the widget's own font and colour, which its boxes inherit. */
  .root {
    all: initial;
    font: var(--va-font, inherit);
    color: var(--_text);
    box-sizing: border-box;
  }
  .root *,
  .root *::before,
  .root *::after {
    box-sizing: inherit;
  }
  [hidden] {
    display: none !important;
  }
  button,
  textarea {
    font: inherit;
    color: inherit;
    letter-spacing: inherit;
    text-transform: none;
    margin: 0;
  }
  button {
    cursor: pointer;
  }
  button:disabled {
    cursor: default;
    opacity: 0.55;
  }
  :focus-visible {
    outline: 3px solid var(--_focus);
    outline-offset: 2px;
  }
  .icon {
    width: 1.25em;
    height: 1.25em;
    flex: none;
  }
  :host(:dir(rtl)) .send-button .icon {
    transform: scaleX(-1);
  }

  /* Floating: a launcher fixed to a corner, the panel opening beside it. */
  .root.floating {
    position: fixed;
    z-index: var(--_z-index);
    inset-block-end: var(--_offset-y);
    inset-inline-end: var(--_offset-x);
  }
  .root.floating.top {
    inset-block-end: auto;
    inset-block-start: var(--_offset-y);
  }
  .root.floating.left {
    inset-inline-end: auto;
    inset-inline-start: var(--_offset-x);
  }
  .launcher {
    position: relative;
    display: grid;
    place-items: center;
    width: var(--_launcher-size);
    height: var(--_launcher-size);
    padding: 0;
    border: none;
    border-radius: 50%;
    background: var(--_accent);
    color: var(--_accent-contrast);
    box-shadow: var(--_shadow);
  }
  .launcher .icon {
    width: 45%;
    height: 45%;
  }
  .launcher.live::after {
    content: '';
    position: absolute;
    inset: -4px;
    border-radius: 50%;
    border: 2px solid var(--_accent);
    animation: ring 1.6s ease-out infinite;
  }
  @keyframes ring {
    to {
      transform: scale(1.35);
      opacity: 0;
    }
  }
  .launcher-badge {
    position: absolute;
    inset-block-start: -2px;
    inset-inline-end: -2px;
    display: grid;
    place-items: center;
    width: 1.5rem;
    height: 1.5rem;
    border-radius: 50%;
    background: var(--_danger);
    color: var(--_danger-contrast);
    box-shadow: 0 0 0 2px var(--_surface);
  }
  .launcher-badge .icon {
    width: 0.9rem;
    height: 0.9rem;
  }
  .floating .panel {
    position: absolute;
    inset-block-end: calc(100% + 0.75rem);
    inset-inline-end: 0;
    width: min(var(--_panel-width), calc(100vw - 2 * var(--_offset-x)));
    max-height: min(var(--_panel-height), calc(100vh - var(--_launcher-size) - 2 * var(--_offset-y) - 1rem));
    box-shadow: var(--_shadow);
  }
  .floating.top .panel {
    inset-block-end: auto;
    inset-block-start: calc(100% + 0.75rem);
  }
  .floating.left .panel {
    inset-inline-end: auto;
    inset-inline-start: 0;
  }
  @media (max-width: 480px) {
    /* Phones: the open panel is a sheet across the bottom of the screen. */
    .floating .panel,
    .floating.top .panel,
    .floating.left .panel {
      position: fixed;
      inset: auto 0 0 0;
      width: 100%;
      max-height: calc(100dvh - 2rem);
      border-end-start-radius: 0;
      border-end-end-radius: 0;
      padding-inline: max(1rem, env(safe-area-inset-left), env(safe-area-inset-right));
      padding-block-end: max(1rem, env(safe-area-inset-bottom));
    }
  }

  /* The panel, floating or inline. */
  .panel {
    display: flex;
    flex-direction: column;
    gap: 0.75rem;
    min-width: 0;
    min-height: 0;
    padding: 1rem;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_surface);
    overflow: hidden;
  }
  .panel:focus-visible {
    /* Focus lands on the panel when it opens from the keyboard: a quieter ring inside its edge. */
    outline-width: 2px;
    outline-offset: -1px;
  }
  .inline .panel {
    width: 100%;
  }
  .header {
    display: flex;
    align-items: center;
    gap: 0.75rem;
  }
  .avatar {
    display: grid;
    place-items: center;
    flex: none;
    width: 2.5rem;
    height: 2.5rem;
    border-radius: 50%;
    overflow: hidden;
    background: var(--_bubble-user);
    color: var(--_accent);
  }
  ::slotted([slot='avatar']) {
    width: 100%;
    height: 100%;
    object-fit: cover;
  }
  .heading {
    display: grid;
    flex: 1;
    min-width: 0;
  }
  .name {
    margin: 0;
    font-size: 1.0625em;
    font-weight: 650;
    line-height: 1.3;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }
  .status {
    margin: 0;
    color: var(--_muted-text);
    font-size: 0.875em;
  }
  /* Round, finger-sized icon buttons: close and send. */
  .icon-button,
  .send-button {
    display: grid;
    place-items: center;
    flex: none;
    width: 2.75rem;
    height: 2.75rem;
    padding: 0;
    border: none;
    border-radius: 50%;
  }
  .icon-button {
    background: transparent;
    color: var(--_muted-text);
  }
  .icon-button:hover {
    background: var(--_bubble-assistant);
    color: var(--_text);
  }
  .hint {
    margin: 0;
    padding: 0.5rem 0.75rem;
    border-radius: 0.75rem;
    background: var(--_bubble-user);
    font-size: 0.875em;
  }
  .problem {
    display: grid;
    gap: 0.5rem;
    justify-items: start;
    padding: 0.75rem;
    border-radius: 0.75rem;
    border: 1px solid var(--_danger);
  }
  .error {
    margin: 0;
    color: var(--_text);
    font-size: 0.9375em;
  }

  .composer {
    display: flex;
    align-items: flex-end;
    gap: 0.5rem;
  }
  .text-input {
    flex: 1;
    min-width: 0;
    min-height: 2.75rem;
    max-height: 8rem;
    padding: 0.6rem 0.9rem;
    border: 1px solid var(--_border);
    border-radius: 1.375rem;
    background: var(--_surface);
    line-height: 1.4;
    resize: none;
    field-sizing: content;
  }
  .text-input::placeholder {
    color: var(--_muted-text);
    opacity: 1;
  }
  .send-button {
    background: var(--_accent);
    color: var(--_accent-contrast);
  }
  .note {
    margin: -0.25rem 0 0;
    color: var(--_danger);
    font-size: 0.8125em;
  }

  .controls {
    display: flex;
    gap: 0.5rem;
    justify-content: center;
  }
  .pill {
    display: inline-flex;
    align-items: center;
    justify-content: center;
    gap: 0.5rem;
    min-height: 2.75rem;
    padding: 0.5rem 1.25rem;
    border: 1px solid transparent;
    border-radius: var(--_button-radius);
    font-weight: 600;
    white-space: nowrap;
  }
  .call-button {
    flex: 1;
    background: var(--_accent);
    color: var(--_accent-contrast);
  }
  .call-button.end {
    background: var(--_danger);
    color: var(--_danger-contrast);
  }
  .mute-button,
  .device-button {
    width: 2.75rem;
    padding: 0;
    border-color: var(--_border);
    background: transparent;
  }
  .device-button[aria-expanded='true'] {
    background: var(--_bubble-assistant);
  }
  .mute-button[aria-pressed='true'] {
    border-color: var(--_danger);
    background: var(--_danger);
    color: var(--_danger-contrast);
  }
  .retry-button {
    background: var(--_accent);
    color: var(--_accent-contrast);
  }

  /* Heard by screen readers and kept when the transcript is copied; not shown. */
  .speaker {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
  @media (prefers-reduced-motion: reduce) {
    .launcher.live::after {
      animation: none;
    }
  }
`;
