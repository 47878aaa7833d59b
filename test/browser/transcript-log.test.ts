import '../support/guards.js';
import { expect } from '@open-wc/testing';
import type { TranscriptRole } from '../../src/protocol/agent-events.js';
import { MAX_ENTRY_TEXT_LENGTH, MAX_TRANSCRIPT_ENTRIES, TranscriptLog, clampText } from '../../src/session/transcript-log.js';

const live = (role: TranscriptRole, text: string) => ({ role, text, final: false, merge: 'replace' as const });
const final = (role: TranscriptRole, text: string) => ({ role, text, final: true, merge: 'replace' as const });
const more = (role: TranscriptRole, text: string) => ({ role, text, final: false, merge: 'append' as const });

describe('TranscriptLog', () => {
  it('starts empty', () => {
    const log = new TranscriptLog();
    expect(log.entries).to.deep.equal([]);
    expect([log.maxEntries, MAX_TRANSCRIPT_ENTRIES]).to.deep.equal([500, 500]);
    expect([log.maxTextLength, MAX_ENTRY_TEXT_LENGTH]).to.deep.equal([20_000, 20_000]);
  });

  it("updates a role's turn in progress in place until it is final, then starts the next turn anew", () => {
    const log = new TranscriptLog();
    expect(log.apply(live('assistant', 'Hello'))).to.deep.equal({ role: 'assistant', text: 'Hello', final: false });
    log.apply(live('assistant', 'Hello there'));
    expect(log.apply(final('assistant', 'Hello there.'))).to.deep.equal({ role: 'assistant', text: 'Hello there.', final: true });
    log.apply(live('assistant', 'Anything'));
    expect(log.entries).to.deep.equal([
      { role: 'assistant', text: 'Hello there.', final: true },
      { role: 'assistant', text: 'Anything', final: false },
    ]);
  });

  it('appends an append update to the text so far', () => {
    const log = new TranscriptLog();
    log.apply(more('user', 'I want'));
    expect(log.apply(more('user', ' a refund'))).to.deep.equal({ role: 'user', text: 'I want a refund', final: false });
    expect(log.entries).to.have.length(1);
  });

  it('keeps one turn in progress per role', () => {
    const log = new TranscriptLog();
    log.apply(live('assistant', 'Let me'));
    log.apply(live('user', 'Wait'));
    log.apply(live('assistant', 'Let me check'));
    log.apply(final('user', 'Wait, no'));
    expect(log.entries).to.deep.equal([
      { role: 'assistant', text: 'Let me check', final: false },
      { role: 'user', text: 'Wait, no', final: true },
    ]);
  });

  it('changes nothing, and returns nothing, for an update that repeats the entry', () => {
    const log = new TranscriptLog();
    log.apply(live('user', 'Same'));
    const before = log.entries;
    expect(log.apply(live('user', 'Same'))).to.equal(undefined);
    expect(log.entries).to.equal(before);
  });

  it('gives every change as a new frozen array of frozen entries, leaving the old one as it was', () => {
    const log = new TranscriptLog();
    log.apply(live('user', 'One'));
    const before = log.entries;
    log.apply(live('user', 'One two'));
    expect(log.entries).not.to.equal(before);
    expect(before).to.deep.equal([{ role: 'user', text: 'One', final: false }]);
    expect(Object.isFrozen(log.entries) && Object.isFrozen(log.entries[0])).to.equal(true);
  });

  it('adds a separate update as an entry of its own, leaving the turn in progress live', () => {
    const log = new TranscriptLog();
    log.apply(live('user', 'I was say'));
    log.apply(final('user', 'typed text'), true);
    log.apply(live('user', 'I was saying'));
    expect(log.entries).to.deep.equal([
      { role: 'user', text: 'I was saying', final: false },
      { role: 'user', text: 'typed text', final: true },
    ]);
  });

  it('keeps the newest maxEntries entries, and a live entry that moved still updates in place', () => {
    const log = new TranscriptLog(3);
    log.apply(final('user', 'one'));
    log.apply(live('assistant', 'two'));
    log.apply(final('user', 'three'));
    log.apply(final('user', 'four'));
    log.apply(live('assistant', 'two, and more'));
    expect(log.entries.map((e) => e.text)).to.deep.equal(['two, and more', 'three', 'four']);
  });

  it('starts a new entry for a turn whose live entry was dropped off the front', () => {
    const log = new TranscriptLog(2);
    log.apply(live('assistant', 'old'));
    log.apply(final('user', 'a'));
    log.apply(final('user', 'b'));
    log.apply(live('assistant', 'old, continued'));
    expect(log.entries.map((e) => e.text)).to.deep.equal(['b', 'old, continued']);
  });

  it('holds at most 500 entries by default, dropping the oldest', () => {
    const log = new TranscriptLog();
    for (let i = 1; i <= 501; i++) log.apply(final('user', `turn ${i}`));
    expect(log.entries).to.have.length(500);
    expect([log.entries[0]!.text, log.entries[499]!.text]).to.deep.equal(['turn 2', 'turn 501']);
  });

  it('keeps at most maxTextLength characters of a turn, its beginning, however it grows', () => {
    const log = new TranscriptLog(500, 10);
    expect(log.apply(live('assistant', 'abcdefghijklmnop'))).to.deep.equal({ role: 'assistant', text: 'abcdefghij', final: false });
    expect(log.apply(final('assistant', 'z'.repeat(1_000_000)))).to.deep.equal({ role: 'assistant', text: 'zzzzzzzzzz', final: true });
    // A stream of appends stops growing the entry at the limit; once it is full, they change nothing.
    expect(log.apply(more('user', 'one '))!.text).to.equal('one ');
    expect(log.apply(more('user', 'two '))!.text).to.equal('one two ');
    expect(log.apply(more('user', 'three '))!.text).to.equal('one two th');
    const full = log.entries;
    for (let i = 0; i < 1000; i++) expect(log.apply(more('user', 'more words '))).to.equal(undefined);
    expect(log.entries).to.equal(full);
    // Becoming final is still a change, with the text as it was kept.
    expect(log.apply({ role: 'user', text: '', final: true, merge: 'append' })).to.deep.equal({ role: 'user', text: 'one two th', final: true });
  });

  it('holds at most 20,000 characters per entry by default, never splitting a surrogate pair', () => {
    const log = new TranscriptLog();
    expect(log.apply(live('user', 'x'.repeat(MAX_ENTRY_TEXT_LENGTH + 5000)))!.text).to.have.length(MAX_ENTRY_TEXT_LENGTH);
    // '😀' is two UTF-16 units: a cut between them would leave half a character.
    expect(clampText('ab😀', 3)).to.equal('ab');
    expect(clampText('ab😀', 4)).to.equal('ab😀');
    expect(clampText('a😀b', 3)).to.equal('a😀');
    expect(clampText('short', 3)).to.equal('sho');
  });

  it('settles every turn in progress as it stands, in the order they went live', () => {
    const log = new TranscriptLog();
    log.apply(live('user', 'I was'));
    log.apply(final('assistant', 'Done.'));
    log.apply(live('assistant', 'And'));
    expect(log.settle()).to.deep.equal([
      { role: 'user', text: 'I was', final: true },
      { role: 'assistant', text: 'And', final: true },
    ]);
    expect(log.entries.every((e) => e.final)).to.equal(true);
    log.apply(live('user', 'new turn'));
    expect(log.entries).to.have.length(4);
  });

  it('settles nothing, and keeps the same array, when no turn is in progress', () => {
    const log = new TranscriptLog();
    log.apply(final('user', 'Done.'));
    const before = log.entries;
    expect(log.settle()).to.deep.equal([]);
    expect(log.entries).to.equal(before);
  });

  it('empties on clear, forgetting the turns in progress', () => {
    const log = new TranscriptLog();
    log.apply(live('user', 'old call'));
    log.clear();
    expect(log.entries).to.deep.equal([]);
    log.apply(live('user', 'new call'));
    expect(log.entries).to.deep.equal([{ role: 'user', text: 'new call', final: false }]);
    expect(log.settle()).to.have.length(1);
  });
});
