/*
 * What a durable consumer may take from memory instead of the outbox (events/consumers/recent-events.ts): only a
 * page after a cursor inside an unbroken run of sequence numbers it saw published, of its own types.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RecentEvents } from '../src/events/consumers/recent-events.js';
import type { StoredEvent } from '../src/events/types.js';

function event(seq: number, type = 'action.approved'): StoredEvent {
  return {
    seq,
    ts: 1000 + seq,
    type,
    actionId: `a${seq}`,
    agentId: null,
    sessionId: null,
    rootId: null,
    data: {},
  } as unknown as StoredEvent;
}

const seqs = (events: readonly StoredEvent[]) => events.map((e) => e.seq);

describe('recent events of a consumer', () => {
  test('a cursor inside the run gets the events after it, and the page ends at the last seq seen', () => {
    const recent = new RecentEvents(null, 100);
    for (const s of [5, 6, 7, 8]) recent.add(event(s));
    assert.deepEqual(recent.pageAfter(6, 100), { events: [event(7), event(8)], last: 8, lastTs: 1008, full: false });
  });

  test('the first event seen opens the run, so a cursor before it is read from the outbox', () => {
    const recent = new RecentEvents(null, 100);
    recent.add(event(5));
    recent.add(event(6));
    assert.equal(recent.pageAfter(3, 100), undefined);
    assert.deepEqual(seqs(recent.pageAfter(4, 100)?.events ?? []), [5, 6]);
  });

  test('a skipped sequence number starts the run again after it: memory never answers for a seq it did not see', () => {
    const recent = new RecentEvents(null, 100);
    for (const s of [5, 6, 8, 9]) recent.add(event(s));
    assert.equal(recent.pageAfter(5, 100), undefined);
    assert.equal(recent.pageAfter(6, 100), undefined);
    assert.deepEqual(seqs(recent.pageAfter(7, 100)?.events ?? []), [8, 9]);
  });

  test('a sequence number seen again ends the run until a new one comes', () => {
    const recent = new RecentEvents(null, 100);
    for (const s of [5, 6, 7, 6]) recent.add(event(s));
    for (const cursor of [4, 5, 6, 7]) assert.equal(recent.pageAfter(cursor, 100), undefined);
    recent.add(event(8));
    assert.equal(recent.pageAfter(6, 100), undefined);
    assert.deepEqual(seqs(recent.pageAfter(7, 100)?.events ?? []), [8]);
  });

  test('a cursor ahead of the run (the outbox was read past it) is not answered until the run reaches it', () => {
    const recent = new RecentEvents(null, 100);
    recent.add(event(5));
    assert.equal(recent.pageAfter(7, 100), undefined);
    recent.add(event(6));
    recent.add(event(7));
    recent.add(event(8));
    assert.deepEqual(recent.pageAfter(7, 100), { events: [event(8)], last: 8, lastTs: 1008, full: false });
  });

  test('a caught-up cursor gets an empty page that leaves it where it is', () => {
    const recent = new RecentEvents(null, 100);
    recent.add(event(5));
    assert.deepEqual(recent.pageAfter(5, 100), { events: [], last: 5, lastTs: null, full: false });
  });

  test('events of other types pass the cursor without being kept', () => {
    const recent = new RecentEvents(new Set(['action.approved']), 100);
    recent.add(event(5, 'action.created'));
    recent.add(event(6, 'action.approved'));
    recent.add(event(7, 'action.created'));
    assert.deepEqual(recent.pageAfter(4, 100), { events: [event(6)], last: 7, lastTs: 1007, full: false });
  });

  test('a page holds at most the limit, ends at its last event, and says more may follow', () => {
    const recent = new RecentEvents(null, 100);
    for (const s of [5, 6, 7, 8]) recent.add(event(s));
    assert.deepEqual(recent.pageAfter(4, 2), { events: [event(5), event(6)], last: 6, lastTs: 1006, full: true });
    assert.deepEqual(seqs(recent.pageAfter(6, 2)?.events ?? []), [7, 8]);
  });

  test('a page is handed over: a cursor left before its end (a pass that stopped early) is read from the outbox', () => {
    const recent = new RecentEvents(null, 100);
    for (const s of [5, 6, 7]) recent.add(event(s));
    assert.deepEqual(seqs(recent.pageAfter(4, 100)?.events ?? []), [5, 6, 7]);
    assert.equal(recent.pageAfter(5, 100), undefined);
    assert.deepEqual(recent.pageAfter(7, 100), { events: [], last: 7, lastTs: null, full: false });
    recent.add(event(8));
    assert.deepEqual(seqs(recent.pageAfter(7, 100)?.events ?? []), [8]);
  });

  test('past its capacity the oldest events go and the run starts after them', () => {
    const recent = new RecentEvents(null, 3);
    for (const s of [5, 6, 7, 8, 9]) recent.add(event(s));
    assert.equal(recent.pageAfter(5, 100), undefined);
    assert.deepEqual(seqs(recent.pageAfter(6, 100)?.events ?? []), [7, 8, 9]);
  });

  test('cleared, it answers for nothing until it sees events again', () => {
    const recent = new RecentEvents(null, 100);
    for (const s of [5, 6]) recent.add(event(s));
    recent.clear();
    assert.equal(recent.pageAfter(6, 100), undefined);
    recent.add(event(7));
    assert.deepEqual(seqs(recent.pageAfter(6, 100)?.events ?? []), [7]);
  });
});
