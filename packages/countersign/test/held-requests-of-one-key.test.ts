import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { revokeKey } from '../src/domain/identities/revoke-key.js';
import { ADMIN, forEachDialect, propose, type World, world } from './helpers.js';
import { SseClient } from './sse-client.js';

/** Polls a condition on real time without asserting anything about how long it took. */
async function eventually(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`never happened: ${what}`);
}

async function gauge(w: World, kind: 'long_poll' | 'sse'): Promise<number> {
  const m = await w.gw.deps.metrics.waiters.get();
  return m.values.find((v) => v.labels.kind === kind)?.value ?? 0;
}

/** A long-poll over the network, which the test can leave (as a client that disconnects). */
function longPoll(w: World, key: string, id: string) {
  const abort = new AbortController();
  const answer = fetch(`${w.gw.url}/v1/actions/${id}?wait=60`, { headers: { authorization: `Bearer ${key}` }, signal: abort.signal }).then(
    (r) => r.status,
    () => 'left' as const,
  );
  return { answer, leave: () => abort.abort() };
}

forEachDialect('held requests of one key', (dialect) => {
  const open: World[] = [];
  const closers: (() => void)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) c();
    for (const w of open.splice(0)) await w.close();
  });

  test('revoking the key ends every long-poll and stream it holds, not one that left before, and lets go of them all', async () => {
    const w = await world(dialect, { listen: true });
    open.push(w);
    const ids = await Promise.all([propose(w), propose(w), propose(w), propose(w), propose(w)]).then((r) => r.map((p) => p.body.id));
    const polls = ids.slice(0, 3).map((id) => longPoll(w, w.keys.agent, id));
    for (const p of polls) closers.push(p.leave);
    const streams = await Promise.all(ids.slice(3).map((id) => SseClient.open(w.gw.url, w.keys.agent, `action=${id}`)));
    for (const s of streams) closers.push(() => s.close());
    await eventually('three long-polls are parked', async () => (await gauge(w, 'long_poll')) === 3);
    await eventually('two streams are open', async () => (await gauge(w, 'sse')) === 2);
    // The middle one's client leaves: its wait lets go of everything, and the revocation must not reach it.
    polls[1]?.leave();
    await eventually('the one that left is no longer parked', async () => (await gauge(w, 'long_poll')) === 2);

    await revokeKey(w.gw.deps, ADMIN, w.keys.agent.slice(0, 'cs_'.length + 12));
    assert.deepEqual(await Promise.all(polls.map((p) => p.answer)), [401, 'left', 401]);
    for (const s of streams) assert.ok(await s.endsWithin(5000), 'the server ended the stream');
    await eventually('no stream is left', () => w.gw.app.eventStreams.size() === 0);
    assert.equal(await gauge(w, 'long_poll'), 0);
    assert.equal(await gauge(w, 'sse'), 0);
    assert.equal(w.gw.deps.identities.size(), 0, 'no registration is left');
  });
});
