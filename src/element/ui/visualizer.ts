import { css, html, type ReactiveController, type ReactiveControllerHost } from 'lit';
import type { ViewState } from './view-state.js';

/** What the visualiser reads from its element. */
export interface LevelSource extends ReactiveControllerHost {
  readonly inputLevel: number;
  readonly outputLevel: number;
  readonly renderRoot: HTMLElement | DocumentFragment;
  /** Which level to show now (`input` while listening, `output` while the agent speaks), or none: stay still. */
  readonly meterSource: 'input' | 'output' | undefined;
  /** The visualiser is on screen (an inline panel, or a floating panel that is open). */
  readonly panelVisible: boolean;
}

const BARS = 5;
/** dBFS mapped to the bottom and the top of the bars. */
const FLOOR_DB = -60;
const CEILING_DB = -12;

/**
 * Moves the visualiser's bars with the live level, one animation frame at a time, but only while a
 * call is live and the visualiser can be seen: no frames while idle, while the floating panel is
 * closed, while the tab is hidden, or when the user prefers reduced motion (the bars then stand still).
 * The level goes straight to a CSS custom property: no render per frame.
 */
export class VisualizerController implements ReactiveController {
  private _frame = 0;
  private _level = 0;
  private _painted = -1;
  private _motion?: MediaQueryList;

  constructor(private readonly _host: LevelSource) {
    _host.addController(this);
  }

  hostConnected(): void {
    this._motion = matchMedia('(prefers-reduced-motion: reduce)');
    this._motion.addEventListener('change', this._sync);
    document.addEventListener('visibilitychange', this._sync);
  }

  hostDisconnected(): void {
    this._motion?.removeEventListener('change', this._sync);
    document.removeEventListener('visibilitychange', this._sync);
    this._stop();
  }

  hostUpdated(): void {
    this._sync();
  }

  /** Whether frames are being drawn now (for tests and diagnostics). */
  get running(): boolean {
    return this._frame !== 0;
  }

  private readonly _sync = (): void => {
    const { _host: host } = this;
    const run =
      host.meterSource !== undefined && host.panelVisible && document.visibilityState === 'visible' && !this._motion?.matches;
    if (run && !this._frame) this._frame = requestAnimationFrame(this._tick);
    if (!run) this._stop();
  };

  private _stop(): void {
    if (this._frame) cancelAnimationFrame(this._frame);
    this._frame = 0;
    this._level = 0;
    this._paint();
  }

  private readonly _tick = (): void => {
    const { _host: host } = this;
    const rms = host.meterSource === 'output' ? host.outputLevel : host.meterSource === 'input' ? host.inputLevel : 0;
    const db = rms > 0 ? 20 * Math.log10(rms) : FLOOR_DB;
    const target = Math.min(1, Math.max(0, (db - FLOOR_DB) / (CEILING_DB - FLOOR_DB)));
    // Fast attack, slow release: speech looks lively without flicker.
    this._level += (target - this._level) * (target > this._level ? 0.5 : 0.12);
    // Repaint only for a change the eye can see: a still level costs no style work.
    if (Math.abs(this._level - this._painted) >= 0.02) this._paint();
    this._frame = requestAnimationFrame(this._tick);
  };

  private _paint(): void {
    const target = this._host.renderRoot.querySelector<HTMLElement>('.visualizer');
    this._painted = this._level;
    target?.style.setProperty('--_level', this._level.toFixed(2));
  }
}

export function renderVisualizer(state: ViewState) {
  return html`<div part="visualizer" class="visualizer ${state}" aria-hidden="true">
    ${Array.from({ length: BARS }, () => html`<span class="bar"></span>`)}
  </div>`;
}

export const visualizerStyles = css`
  .visualizer {
    display: flex;
    align-items: center;
    justify-content: center;
    gap: 6px;
    height: 3.25rem;
    color: var(--_border);
  }
  .visualizer.listening,
  .visualizer.speaking,
  .visualizer.microphone,
  .visualizer.connecting,
  .visualizer.reconnecting {
    color: var(--_accent);
  }
  .visualizer.muted,
  .visualizer.error {
    color: var(--_muted-text);
  }
  .bar {
    width: 6px;
    height: 100%;
    border-radius: 3px;
    background: currentColor;
    transform: scaleY(calc(0.12 + var(--_level, 0) * var(--_gain, 0.8)));
  }
  .bar:nth-child(1),
  .bar:nth-child(5) {
    --_gain: 0.45;
  }
  .bar:nth-child(2),
  .bar:nth-child(4) {
    --_gain: 0.7;
  }
  .bar:nth-child(3) {
    --_gain: 0.88;
  }
  @media (prefers-reduced-motion: reduce) {
    /* Calm and still: a call in progress shows as a steady, medium shape. */
    .visualizer.listening .bar,
    .visualizer.speaking .bar {
      --_level: 0.5;
    }
  }
`;
