import type { TranscriptRole } from '../protocol/agent-events.js';
import type { TranscriptEntry, TranscriptMark } from './session-types.js';

/** The most entries a call's transcript keeps: older ones are dropped first. */
export const MAX_TRANSCRIPT_ENTRIES = 500;

/**
 * The longest text one entry keeps, in characters (about twenty minutes of speech): a turn that grows
 * past it keeps its beginning. With {@link MAX_TRANSCRIPT_ENTRIES}, it bounds the whole transcript.
 */
export const MAX_ENTRY_TEXT_LENGTH = 20_000;

/** `text` cut to `max` characters, never between the two halves of a surrogate pair. */
export function clampText(text: string, max = MAX_ENTRY_TEXT_LENGTH): string {
  if (text.length <= max) return text;
  const cut = text.charCodeAt(max - 1) >= 0xd800 && text.charCodeAt(max - 1) <= 0xdbff ? max - 1 : max;
  return text.slice(0, cut);
}

/**
 * One transcript update: `replace` gives the whole turn so far, `append` continues it; `final` closes
 * the turn with its definitive text.
 */
export interface TranscriptUpdate {
  role: TranscriptRole;
  text: string;
  final: boolean;
  merge: 'replace' | 'append';
}

const EMPTY: readonly TranscriptEntry[] = Object.freeze([]);

/**
 * A call's transcript as entries, oldest first: each role's turn in progress (its live entry) is
 * updated in place until it is final, at most `maxEntries` are kept, each with at most
 * `maxTextLength` characters. Pure bookkeeping: every change gives a new frozen array, and nothing is
 * emitted.
 */
export class TranscriptLog {
  private _entries = EMPTY;
  /** Index in `_entries` of each role's turn in progress. */
  private readonly _live = new Map<TranscriptRole | 'system', number>();

  constructor(
    readonly maxEntries = MAX_TRANSCRIPT_ENTRIES,
    readonly maxTextLength = MAX_ENTRY_TEXT_LENGTH,
  ) {}

  /** The entries, oldest first: a frozen array, replaced (never changed) by each update. */
  get entries(): readonly TranscriptEntry[] {
    return this._entries;
  }

  /** Empties the transcript, for a new call. */
  clear(): void {
    this._entries = EMPTY;
    this._live.clear();
  }

  /**
   * Applies an update to its role's turn in progress, or starts a new entry. A `separate` update (text
   * the user typed) is an entry of its own, whatever is live. Returns the entry added or changed, or
   * undefined when the update changes nothing.
   */
  apply(update: TranscriptUpdate, separate = false): TranscriptEntry | undefined {
    const { role, final } = update;
    const index = separate ? undefined : this._live.get(role);
    const previous = index === undefined ? undefined : this._entries[index];
    // An append to a full entry adds nothing: the text is not even joined.
    const joined = update.merge === 'append' && previous ? (previous.text.length >= this.maxTextLength ? previous.text : previous.text + update.text) : update.text;
    const text = clampText(joined, this.maxTextLength);
    if (previous && previous.text === text && previous.final === final) return undefined;
    const entry: TranscriptEntry = Object.freeze({ role, text, final });
    if (index === undefined) {
      this._push(entry);
      if (!final) this._live.set(role, this._entries.length - 1);
    } else {
      const entries = [...this._entries];
      entries[index] = entry;
      this._entries = Object.freeze(entries);
      if (final) this._live.delete(role);
    }
    return entry;
  }

  /**
   * Adds a `system` entry marking a point in the call (`reconnected`: a new session on the agent's
   * server begins here). Turns in progress are settled first: none continues across the mark.
   */
  mark(mark: TranscriptMark): TranscriptEntry {
    this.settle();
    const entry: TranscriptEntry = Object.freeze({ role: 'system', text: '', final: true, mark });
    this._push(entry);
    return entry;
  }

  /** Appends an entry, dropping the oldest beyond `maxEntries` (a live turn's index follows). */
  private _push(entry: TranscriptEntry): void {
    const entries = [...this._entries, entry];
    const excess = entries.length - this.maxEntries;
    if (excess > 0) {
      entries.splice(0, excess);
      for (const [liveRole, liveIndex] of this._live) {
        if (liveIndex < excess) this._live.delete(liveRole);
        else this._live.set(liveRole, liveIndex - excess);
      }
    }
    this._entries = Object.freeze(entries);
  }

  /**
   * Makes every turn in progress final, as it stands: a call that ends leaves none. Returns the entries
   * it settled, in the order their turns went live.
   */
  settle(): TranscriptEntry[] {
    if (this._live.size === 0) return [];
    const entries = [...this._entries];
    const settled = [...this._live.values()].map((index) => (entries[index] = Object.freeze({ ...entries[index]!, final: true })));
    this._live.clear();
    this._entries = Object.freeze(entries);
    return settled;
  }
}
