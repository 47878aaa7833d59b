import { css, html, nothing, type ReactiveController, type ReactiveControllerHost } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { TranscriptEntry } from '../../session/session-types.js';
import { downIcon } from './icons.js';

/** How close to the bottom still counts as reading the latest (px). */
const PINNED_SLACK = 24;

/**
 * Keeps the transcript scrolled to the latest turn while the reader is there; once they scroll up
 * to read, it stays put and offers a "jump to latest" control instead. It looks once a frame, before
 * the frame is drawn, however many updates came in it: reading the list's height after each one
 * would lay the whole transcript out again each time.
 */
export class TranscriptScroller implements ReactiveController {
  /** New text arrived while the reader was scrolled up. */
  unseen = false;
  private _pinned = true;
  private _lastHeight = 0;
  private _frame = 0;
  /** Where the scroller last put the list (its `scrollTop`): the scroll event that follows is its own. */
  private _placedAt = -1;

  constructor(
    private readonly _host: ReactiveControllerHost & { readonly renderRoot: HTMLElement | DocumentFragment },
  ) {
    _host.addController(this);
  }

  hostUpdated(): void {
    this._frame ||= requestAnimationFrame(this._follow);
  }

  hostDisconnected(): void {
    cancelAnimationFrame(this._frame);
    this._frame = 0;
  }

  private readonly _follow = (): void => {
    this._frame = 0;
    const list = this._list;
    if (!list) return;
    const grew = list.scrollHeight !== this._lastHeight;
    this._lastHeight = list.scrollHeight;
    if (this._pinned) this._toBottom(list);
    else if (grew && !this.unseen) {
      this.unseen = true;
      this._host.requestUpdate();
    }
  };

  /**
   * The reader scrolled: follow the latest again once they are back at the bottom. A scroll event
   * comes a frame after its scroll: by then the list may have grown under a scroll of the scroller's
   * own, which leaves the reader where it put them, not scrolled up.
   */
  readonly onScroll = (): void => {
    const list = this._list;
    if (!list) return;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight <= PINNED_SLACK;
    const movedUp = list.scrollTop < this._placedAt - 1;
    const pinned = atBottom || (this._pinned && !movedUp);
    if (pinned === this._pinned) return;
    this._pinned = pinned;
    if (pinned && this.unseen) {
      this.unseen = false;
      this._host.requestUpdate();
    }
  };

  readonly jumpToLatest = (): void => {
    this._pinned = true;
    this.unseen = false;
    const list = this._list;
    if (list) this._toBottom(list);
    this._host.requestUpdate();
  };

  private _toBottom(list: HTMLElement): void {
    list.scrollTop = list.scrollHeight;
    this._placedAt = list.scrollTop;
  }

  private get _list(): HTMLElement | null {
    return this._host.renderRoot.querySelector<HTMLElement>('.transcript');
  }
}

export interface TranscriptLabels {
  label: string;
  you: string;
  agent: string;
  jumpToLatest: string;
  /** The mark where the call went on after a reconnect. */
  reconnected: string;
}

/**
 * One bubble per turn per role; the turn in progress looks in progress. Text is text, never markup.
 * Each bubble is keyed by its entry (a frozen value, replaced when it changes): once the transcript is
 * full and drops its oldest entry with each new one, the other bubbles stay as they are rather than
 * each taking the next one's text (and being laid out anew).
 */
export function renderTranscript(entries: readonly TranscriptEntry[], labels: TranscriptLabels, scroller: TranscriptScroller) {
  return html`<div class="transcript-frame">
    <ol part="transcript" class="transcript" aria-label=${labels.label} tabindex="0" @scroll=${scroller.onScroll}>
      ${repeat(entries, (entry) => entry, (entry) => renderEntry(entry, labels))}
    </ol>
    ${scroller.unseen
      ? html`<button part="jump-button" class="jump" type="button" @click=${scroller.jumpToLatest}>${downIcon}<span>${labels.jumpToLatest}</span></button>`
      : nothing}
  </div>`;
}

/** A turn as a bubble (none while it has no words yet), or a mark across the list. */
function renderEntry(entry: TranscriptEntry, labels: TranscriptLabels) {
  if (entry.role === 'system') {
    return html`<li part="transcript-mark" class="mark" role="separator" aria-label=${labels.reconnected}><span>${labels.reconnected}</span></li>`;
  }
  if (entry.text === '') return nothing;
  return html`<li part="message message-${entry.role}" class="message ${entry.role} ${entry.final ? '' : 'live'}">
    <span class="speaker">${entry.role === 'user' ? labels.you : labels.agent}: </span><span class="text">${entry.text}</span>
  </li>`;
}

export const transcriptStyles = css`
  .transcript-frame {
    position: relative;
    min-height: 0;
    display: grid;
  }
  .transcript {
    display: flex;
    flex-direction: column;
    gap: 0.5rem;
    margin: 0;
    padding: 0.25rem 0.125rem;
    list-style: none;
    max-height: var(--_transcript-max-height);
    overflow-y: auto;
    overscroll-behavior: contain;
    scrollbar-width: thin;
  }
  .transcript:focus-visible {
    outline: 2px solid var(--_focus);
    outline-offset: 2px;
    border-radius: 8px;
  }
  .mark {
    display: flex;
    align-items: center;
    gap: 0.5rem;
    color: var(--_muted-text);
    font-size: 0.8125em;
  }
  .mark::before,
  .mark::after {
    content: '';
    flex: 1;
    border-top: 1px solid var(--_border);
  }
  .message {
    max-width: 85%;
    padding: 0.5rem 0.75rem;
    border-radius: 1rem;
    line-height: 1.45;
    overflow-wrap: anywhere;
    user-select: text;
  }
  .message .text {
    white-space: pre-wrap;
  }
  .message.assistant {
    align-self: flex-start;
    background: var(--_bubble-assistant);
    border-end-start-radius: 0.25rem;
  }
  .message.user {
    align-self: flex-end;
    background: var(--_bubble-user);
    border-end-end-radius: 0.25rem;
  }
  .message.live .text::after {
    content: '…';
    display: inline-block;
    margin-inline-start: 0.15em;
    color: var(--_muted-text);
    animation: typing 1.2s steps(4, end) infinite;
    width: 1.2em;
    overflow: hidden;
    vertical-align: bottom;
  }
  .message.live {
    box-shadow: inset 0 0 0 1px var(--_border);
  }
  @keyframes typing {
    from {
      width: 0;
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .message.live .text::after {
      animation: none;
    }
  }
  .jump {
    position: absolute;
    inset-block-end: 0.5rem;
    left: 50%; /* centred, in either direction */
    transform: translateX(-50%);
    display: inline-flex;
    align-items: center;
    gap: 0.35rem;
    min-height: 2rem;
    padding: 0.25rem 0.75rem;
    border: 1px solid var(--_border);
    border-radius: 999px;
    background: var(--_surface);
    color: var(--_text);
    box-shadow: var(--_shadow);
    font-size: 0.875em;
  }
  .jump .icon {
    width: 1em;
    height: 1em;
  }
`;
