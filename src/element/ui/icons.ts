import { svg } from 'lit';

/** Small inline icons (24 × 24, stroked with currentColor); decorative: their buttons carry the names. */
const icon = (body: ReturnType<typeof svg>) =>
  svg`<svg class="icon" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${body}</svg>`;

export const micIcon = icon(svg`<rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/>`);
export const micOffIcon = icon(
  svg`<path d="M15 9.3V6a3 3 0 0 0-5.7-1.3M9 9v2a3 3 0 0 0 5.1 2.1M5 11a7 7 0 0 0 11.7 5.2M19 11a7 7 0 0 1-.6 2.8M12 18v3M3 3l18 18"/>`,
);
export const phoneIcon = icon(
  svg`<path d="M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2"/>`,
);
export const hangUpIcon = icon(svg`<path d="M3 14.5c5-4.7 13-4.7 18 0l-2.5 2.5-3.5-1.5v-2.5a10 10 0 0 0-6 0v2.5L5.5 17z"/>`);
export const closeIcon = icon(svg`<path d="M6 6l12 12M18 6 6 18"/>`);
export const sendIcon = icon(svg`<path d="M4 12h15M13 6l6 6-6 6"/>`);
export const downIcon = icon(svg`<path d="M12 5v14M6 13l6 6 6-6"/>`);
export const waveIcon = icon(svg`<path d="M4 10v4M8 7v10M12 4v16M16 7v10M20 10v4"/>`);
export const devicesIcon = icon(svg`<path d="M4 8h3M11 8h9M4 16h9M17 16h3"/><circle cx="9" cy="8" r="2"/><circle cx="15" cy="16" r="2"/>`);
export const checkIcon = icon(svg`<path d="M5 12l5 5L20 7"/>`);
