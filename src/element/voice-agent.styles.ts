import { css } from 'lit';

/**
 * Public `--va-*` properties are read once, here, into private `--_*` aliases with their defaults;
 * every other rule reads only the aliases.
 */
export const styles = css`
  :host {
    --_accent: var(--va-accent, #4338ca);
    --_accent-contrast: var(--va-accent-contrast, #ffffff);
    --_danger: var(--va-danger, #b91c1c);
    --_surface: var(--va-surface, #ffffff);
    --_text: var(--va-text, #111827);
    --_muted-text: var(--va-muted-text, #4b5563);
    --_border: var(--va-border, #d1d5db);
    --_radius: var(--va-radius, 12px);
    --_button-radius: var(--va-button-radius, 9999px);
    --_font: var(--va-font, inherit);
    --_transcript-max-height: var(--va-transcript-max-height, 16rem);

    display: inline-block;
    box-sizing: border-box;
    max-width: 100%;
    color: var(--_text);
    font: var(--_font);
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  [hidden] {
    display: none !important;
  }

  .base {
    display: grid;
    /* minmax(0, …): long words and the text field shrink to the frame instead of widening it. */
    grid-template-columns: minmax(0, 1fr);
    gap: 0.5rem;
    min-width: 16rem;
    padding: 0.75rem;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_surface);
  }
  .controls {
    display: flex;
    gap: 0.5rem;
    align-items: center;
  }

  button {
    font: inherit;
    white-space: nowrap;
    cursor: pointer;
    border-radius: var(--_button-radius);
    padding: 0.55rem 1.1rem;
    min-height: 2.5rem;
  }
  @media (pointer: coarse) {
    /* Finger-sized targets on touch screens (WCAG 2.5.5). */
    button,
    input {
      min-height: 2.75rem;
    }
  }
  button:disabled {
    cursor: default;
    opacity: 0.6;
  }
  button:focus-visible,
  input:focus-visible {
    outline: 3px solid color-mix(in srgb, var(--_accent) 45%, transparent);
    outline-offset: 2px;
  }
  .call-button {
    border: none;
    background: var(--_accent);
    color: var(--_accent-contrast);
    font-weight: 600;
  }
  :host(:state(connected)) .call-button {
    background: var(--_danger);
  }
  .mute-button {
    border: 1px solid var(--_border);
    background: transparent;
    color: inherit;
  }
  .mute-button[aria-pressed='true'] {
    border-color: var(--_danger);
    color: var(--_danger);
  }

  .status {
    margin: 0;
    color: var(--_muted-text);
    font-size: 0.875em;
  }
  :host(:state(speaking)) .status::before {
    content: '';
    display: inline-block;
    width: 0.5em;
    height: 0.5em;
    margin-inline-end: 0.4em;
    border-radius: 50%;
    background: var(--_accent);
    animation: pulse 1s ease-in-out infinite alternate;
  }
  @keyframes pulse {
    from {
      opacity: 0.35;
    }
  }
  @media (prefers-reduced-motion: reduce) {
    :host(:state(speaking)) .status::before {
      animation: none;
    }
  }

  .error {
    margin: 0;
    color: var(--_danger);
    font-size: 0.875em;
  }

  .transcript {
    display: grid;
    gap: 0.35rem;
    margin: 0;
    padding: 0;
    list-style: none;
    max-height: var(--_transcript-max-height);
    overflow-y: auto;
    overscroll-behavior: contain;
  }
  .message {
    line-height: 1.4;
    overflow-wrap: anywhere;
  }
  .message .text {
    white-space: pre-wrap;
  }
  .message.live {
    color: var(--_muted-text);
  }
  .speaker {
    font-weight: 600;
  }

  .text-form {
    display: flex;
    gap: 0.5rem;
  }
  .text-input {
    flex: 1;
    min-width: 0;
    font: inherit;
    color: inherit;
    background: transparent;
    padding: 0.5rem 0.75rem;
    border: 1px solid var(--_border);
    border-radius: var(--_button-radius);
  }
  .send-button {
    border: 1px solid var(--_accent);
    background: transparent;
    color: var(--_accent);
  }

  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
`;
