import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { call, forEachDialect, propose, type World, world } from './helpers.js';

/** Reads an event stream until `enough` says stop; returns the raw blocks (id/event/data lines). */
async function readStream(w: World, key: string, query: string, enough: (blocks: string[]) => boolean): Promise<string[]> {
  const ctl = new AbortController();
  const res = await fetch(`${w.gw.url}/v1/events?${query}`, { headers: { authorization: `Bearer ${key}` }, signal: ctl.signal });
  assert.equal(res.status, 200);
  const blocks: string[] = [];
  let buffer = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!block.startsWith('retry:') && !block.startsWith(':')) blocks.push(block);
        end = buffer.indexOf('\n\n');
      }
      if (enough(blocks)) break;
    }
  } finally {
    ctl.abort();
  }
  return blocks;
}

const dataOf = (block: string) =>
  JSON.parse(
    block
      .split('\n')
      .find((l) => l.startsWith('data: '))
      ?.slice(6) ?? 'null',
  );

forEachDialect('parent_id chains (subagents)', (dialect) => {
  let w: World;
  before(async () => {
    w = await world(dialect, { listen: true });
  });
  after(async () => w.close());

  test('every action in a parent_id chain knows the root, and the list filters by it', async () => {
    const root = (await propose(w, { tool: 'tree-delegate', session_id: 'tree-1' })).body;
    const child = (await propose(w, { tool: 'tree-delegate', parent_id: root.id, session_id: 'tree-1' })).body;
    const grandchild = (await propose(w, { tool: 'tree-deploy', parent_id: child.id, session_id: 'tree-1' })).body;
    const unrelated = (await propose(w, { tool: 'tree-deploy', session_id: 'tree-1' })).body;
    assert.equal(root.root_id, null);
    assert.equal(child.root_id, root.id);
    assert.equal(grandchild.parent_id, child.id);
    assert.equal(grandchild.root_id, root.id);

    const list = await call(w, 'GET', `/v1/actions?root_id=${root.id}`, w.keys.alice);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.items.map((a: { id: string }) => a.id).sort(), [root.id, child.id, grandchild.id].sort());
    assert.ok(!list.body.items.some((a: { id: string }) => a.id === unrelated.id));
  });

  test('the event stream filtered by root carries a subagent’s tool.approval_required with its chain, and nothing else', async () => {
    const root = (await propose(w, { tool: 'tree-run' })).body;
    await propose(w, { tool: 'tree-other' });
    const sub = (await propose(w, { tool: 'tree-sub-deploy', parent_id: root.id, arguments: { replicas: 3 } })).body;
    const blocks = await readStream(w, w.keys.agent, `root=${root.id}&after=0`, (b) =>
      b.some((x) => x.includes('tool.approval_required') && x.includes(sub.id)),
    );
    const events = blocks.map(dataOf).filter((d) => d !== null);
    assert.deepEqual(
      events.map((e) => [e.type, e.action_id]),
      [
        ['action.created', root.id],
        ['tool.approval_required', root.id],
        ['action.created', sub.id],
        ['tool.approval_required', sub.id],
      ],
    );
    const required = events.at(-1);
    assert.equal(required.root_id, root.id);
    assert.equal(required.action.parent_id, root.id);
    assert.deepEqual(required.action.arguments, { replicas: 3 });
  });

  test('a stream opened "from now" first says where now is, so a reconnect resumes without a gap', async () => {
    await propose(w, { tool: 'tree-before' });
    const [first] = await readStream(w, w.keys.agent, 'session=tree-now', (b) => b.length >= 1);
    const head = Number(/^id: (\d+)$/.exec(first ?? '')?.[1]);
    assert.ok(head > 0, `expected an id-only message, got ${first}`);
    // Something happens while disconnected; resuming from that id delivers it.
    const missed = (await propose(w, { tool: 'tree-missed', session_id: 'tree-now' })).body;
    const resumed = await readStream(w, w.keys.agent, `session=tree-now&after=${head}`, (b) => b.length >= 2);
    assert.deepEqual(
      resumed.map(dataOf).map((e) => [e.type, e.action_id]),
      [
        ['action.created', missed.id],
        ['tool.approval_required', missed.id],
      ],
    );
  });

  test('a parent that does not exist is refused and nothing is created', async () => {
    const r = await propose(w, { tool: 'tree-orphan', parent_id: '01900000-0000-7000-8000-000000000000' });
    assert.equal(r.status, 404);
    const list = await call(w, 'GET', '/v1/actions?tool=tree-orphan', w.keys.alice);
    assert.equal(list.body.items.length, 0);
  });
});
