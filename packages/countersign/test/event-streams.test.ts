import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { sql } from 'kysely';
import { revokeKey } from '../src/domain/identities/revoke-key.js';
import { EventStreams } from '../src/http/event-streams.js';
import { ADMIN, forEachDialect, propose, review, type World, world } from './helpers.js';
import { SseClient } from './sse-client.js';

/** Polls a condition on real time without asserting anything about how long it took. */
async function eventually(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`never happened: ${what}`);
}

/** A stream read as raw text, comments included (the parsers in the other tests skip them). */
async function rawStream(w: World, key: string, query: string) {
  const abort = new AbortController();
  const res = await fetch(`${w.gw.url}/v1/events?${query}`, { headers: { authorization: `Bearer ${key}` }, signal: abort.signal });
  assert.equal(res.status, 200);
  const s = { text: '', close: () => abort.abort() };
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) s.text += decoder.decode(chunk, { stream: true });
    } catch {
      // closed by the test
    }
  })();
  return s;
}

async function sseGauge(w: World): Promise<number> {
  const m = await w.gw.deps.metrics.waiters.get();
  return m.values.find((v) => v.labels.kind === 'sse')?.value ?? 0;
}

const prefixOf = (key: string) => key.slice(0, 'cs_'.length + 12);

forEachDialect('event streams as records', (dialect) => {
  const open: World[] = [];
  const closers: (() => void)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) c();
    for (const w of open.splice(0)) await w.close();
  });

  test('every open stream gets its keep-alive from the one shared heartbeat, and a closed one leaves it', async () => {
    const w = await world(dialect, { listen: true });
    open.push(w);
    // The same streams with a heartbeat period short enough to see within a test.
    const app = w.gw.app;
    app.eventStreams = new EventStreams(w.gw.deps, app.held, app.closing.signal, 150);
    const ids = await Promise.all([propose(w), propose(w), propose(w)]);
    const streams = await Promise.all(ids.map((p) => rawStream(w, w.keys.agent, `action=${p.body.id}`)));
    for (const s of streams) closers.push(s.close);
    await eventually('three streams are open', () => app.eventStreams.size() === 3);
    await eventually('every stream got a keep-alive', () => streams.every((s) => s.text.includes(': keep-alive\n\n')));
    for (const s of streams) assert.match(s.text, /^retry: 2000\n\nid: \d+\n\n/, 'the preamble comes first, as before');
    for (const s of streams) s.close();
    await eventually('the heartbeat lets go of closed streams', () => app.eventStreams.size() === 0);
    assert.equal(await sseGauge(w), 0);
  });

  test('open streams share one bus subscription: each gets only its own action’s decision, and the last to close lets it go', async () => {
    const w = await world(dialect, { listen: true });
    open.push(w);
    const bus = w.gw.deps.bus;
    const baseline = bus.listenerCount();
    const [a, b] = [(await propose(w)).body, (await propose(w)).body];
    const sa = await SseClient.open(w.gw.url, w.keys.agent, `action=${a.id}`);
    const sb = await SseClient.open(w.gw.url, w.keys.agent, `action=${b.id}`);
    closers.push(
      () => sa.close(),
      () => sb.close(),
    );
    await eventually('both streams are open', () => w.gw.app.eventStreams.size() === 2);
    assert.equal(bus.listenerCount(), baseline + 1, 'one subscription serves both streams');
    await review(w, a.id, w.keys.alice, { decision: 'approve' });
    await review(w, b.id, w.keys.alice, { decision: 'deny', reason: 'no' });
    await sa.waitFor('action.approved', a.id);
    await sb.waitFor('action.denied', b.id);
    assert.ok(
      sa.events.every((e) => e.data.action_id === a.id),
      'the first stream got only its action',
    );
    assert.ok(
      sb.events.every((e) => e.data.action_id === b.id),
      'the second stream got only its action',
    );
    sa.close();
    await eventually('one stream is left', () => w.gw.app.eventStreams.size() === 1);
    assert.equal(bus.listenerCount(), baseline + 1, 'the subscription stays while a stream is open');
    sb.close();
    await eventually('no stream is left', () => w.gw.app.eventStreams.size() === 0);
    assert.equal(bus.listenerCount(), baseline, 'the last stream to close lets the subscription go');
  });

  test('a keep-alive re-check that cannot read the identity tables ends every stream it covered (fails closed)', async () => {
    const w = await world(dialect, { listen: true });
    open.push(w);
    // A heartbeat period short enough to see within a test; the streams of one tick share one re-check.
    const app = w.gw.app;
    app.eventStreams = new EventStreams(w.gw.deps, app.held, app.closing.signal, 150);
    const ids = await Promise.all([propose(w), propose(w), propose(w)]);
    const streams = await Promise.all(ids.map((p) => SseClient.open(w.gw.url, w.keys.agent, `action=${p.body.id}`)));
    for (const s of streams) closers.push(() => s.close());
    await eventually('three streams are open', () => app.eventStreams.size() === 3);
    // A real fault: the table every identity check reads is gone (this world is closed after the test).
    await sql`DROP TABLE identity_epoch`.execute(w.gw.deps.db.write);
    for (const s of streams) assert.ok(await s.endsWithin(5000), 'the stream ended instead of going on unverified');
    await eventually('every stream let go', () => app.eventStreams.size() === 0);
  });

  test("revoking the key ends an action's stream at once and lets go of its gauge, heartbeat and registration", async () => {
    const w = await world(dialect, { listen: true });
    open.push(w);
    const { body } = await propose(w);
    const s = await SseClient.open(w.gw.url, w.keys.agent, `action=${body.id}`);
    closers.push(() => s.close());
    await eventually('the stream is open', async () => (await sseGauge(w)) === 1);
    await revokeKey(w.gw.deps, ADMIN, prefixOf(w.keys.agent));
    assert.ok(await s.endsWithin(5000), 'the server ended the stream');
    await eventually('the gauge is back to zero', async () => (await sseGauge(w)) === 0);
    assert.equal(w.gw.app.eventStreams.size(), 0);
    assert.equal(w.gw.deps.identities.size(), 0);
  });
});
