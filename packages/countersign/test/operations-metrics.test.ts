/*
 * The Prometheus gauges read from the database at scrape time: pending actions by age (from the stats
 * rollup), the oldest pending action, and each durable consumer's backlog and dead letters. The clock is
 * the system's plus an offset the test moves, so "five hours later" needs no five hours of fake timers.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { z } from 'zod';
import { ensureConsumer } from '../src/events/consumers/claim.js';
import { EVENT } from '../src/events/types.js';
import { type Clock, systemClock } from '../src/lib/clock.js';
import { call, forEachDialect, propose, REPO_ROOT, review, type World, world } from './helpers.js';

const HOUR = 3_600_000;

/** Real time plus an offset: timers run as usual, and `jump` moves "now" forward at once. */
class OffsetClock implements Clock {
  offset = 0;
  now(): number {
    return systemClock.now() + this.offset;
  }
  setTimeout(fn: () => void, ms: number) {
    return systemClock.setTimeout(fn, ms);
  }
  jump(ms: number): void {
    this.offset += ms;
  }
}

function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got[pair[1] as string] = pair[2] as string;
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** Grafana's reference to the dashboard's data source variable, as the JSON spells it. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JavaScript template
const DATASOURCE_VAR = '${datasource}';
/** The parts of Grafana's dashboard model the shipped dashboard relies on (a panel grid 24 columns wide). */
const Target = z.object({ refId: z.string().min(1), expr: z.string().min(1), datasource: z.object({ uid: z.literal(DATASOURCE_VAR) }) });
const Panel = z.object({
  id: z.number().int().positive(),
  type: z.enum(['row', 'timeseries', 'stat']),
  title: z.string().min(1),
  gridPos: z
    .object({ h: z.number().int().positive(), w: z.number().int().positive(), x: z.number().int().min(0), y: z.number().int().min(0) })
    .refine((g) => g.x + g.w <= 24, 'inside the 24 columns'),
  datasource: z.object({ type: z.literal('prometheus'), uid: z.literal(DATASOURCE_VAR) }).optional(),
  targets: z.array(Target).optional(),
});
const Dashboard = z.object({
  title: z.string().min(1),
  uid: z.string().regex(/^[a-zA-Z0-9_-]{1,40}$/),
  schemaVersion: z.number().int().min(36),
  panels: z.array(Panel).min(1),
  templating: z.object({ list: z.array(z.object({ name: z.string(), type: z.string() })) }),
  time: z.object({ from: z.string(), to: z.string() }),
});
const DASHBOARD = join(REPO_ROOT, 'deploy/grafana/countersign.json');

test('the Grafana dashboard is a valid dashboard model: unique ids, panels in the grid, no two overlapping', () => {
  const d = Dashboard.parse(JSON.parse(readFileSync(DASHBOARD, 'utf8')));
  assert.ok(
    d.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'),
    'the data source is chosen on import',
  );
  assert.equal(new Set(d.panels.map((p) => p.id)).size, d.panels.length, 'panel ids are unique');
  const cells = new Set<string>();
  for (const p of d.panels) {
    if (p.type !== 'row') assert.ok(p.datasource && p.targets && p.targets.length > 0, `${p.title} queries the data source`);
    assert.equal(new Set(p.targets?.map((t) => t.refId)).size, p.targets?.length ?? 0, `${p.title}: refIds are unique`);
    for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
      for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
        assert.ok(!cells.has(`${x},${y}`), `${p.title} overlaps another panel at ${x},${y}`);
        cells.add(`${x},${y}`);
      }
    }
  }
});

forEachDialect('operations metrics read at scrape time', (dialect) => {
  let w: World;
  const clock = new OffsetClock();
  const scrape = async () => {
    const r = await call(w, 'GET', '/metrics');
    assert.equal(r.status, 200);
    return r.body as string;
  };

  before(async () => {
    w = await world(dialect, {
      clock,
      // Deadlines far away, so the jumps below age pending actions without expiring them; one attempt a delivery.
      config: (c) => ({ ...c, review: { defaultExpiryMs: 30 * 24 * HOUR }, events: { ...c.events, consumerMaxAttempts: 1 } }),
    });
  });
  after(async () => w?.close());

  test("pending actions are counted by how long they have waited, beside the oldest one's wait", async () => {
    const fresh = await scrape();
    for (const age of ['under_1h', '1h_to_4h', '4h_to_24h', '1d_to_7d', 'over_7d']) {
      assert.equal(sample(fresh, 'countersign_actions_pending', { age }), 0, `${age} starts at 0`);
    }
    assert.equal(sample(fresh, 'countersign_actions_pending_oldest_age_seconds'), 0);

    const first = await propose(w, { arguments: { n: 1 } });
    assert.equal(first.body.status, 'pending');
    assert.equal(sample(await scrape(), 'countersign_actions_pending', { age: 'under_1h' }), 1);

    clock.jump(5 * HOUR);
    await propose(w, { arguments: { n: 2 } });
    const later = await scrape();
    assert.equal(sample(later, 'countersign_actions_pending', { age: '4h_to_24h' }), 1, 'five hours old');
    assert.equal(sample(later, 'countersign_actions_pending', { age: 'under_1h' }), 1, 'just proposed');
    assert.ok((sample(later, 'countersign_actions_pending_oldest_age_seconds') ?? 0) >= 5 * 3600);

    clock.jump(3 * 24 * HOUR);
    const days = await scrape();
    assert.equal(sample(days, 'countersign_actions_pending', { age: '1d_to_7d' }), 2);
    assert.equal(sample(days, 'countersign_actions_pending', { age: 'under_1h' }), 0);

    assert.equal((await review(w, first.body.id, w.keys.alice, { decision: 'deny', reason: 'no' })).body.status, 'denied');
    assert.equal(sample(await scrape(), 'countersign_actions_pending', { age: '1d_to_7d' }), 1, 'a decision leaves the count');
  });

  test("a consumer's backlog grows while it is away, and its dead letters are counted", async () => {
    // A consumer another node runs (a channel configured there only): nobody here moves its cursor.
    await ensureConsumer(w.gw.deps, 'elsewhere', 'head');
    const before = await scrape();
    assert.equal(sample(before, 'countersign_event_consumer_backlog_events', { consumer: 'elsewhere' }), 0);
    assert.equal(sample(before, 'countersign_event_consumer_backlog_oldest_seconds', { consumer: 'elsewhere' }), 0);

    w.gw.consumers.register({
      name: 'always-fails',
      types: [EVENT.actionCreated],
      handle() {
        throw new Error('the receiver is down');
      },
    });
    await w.gw.consumerRunner.tick('always-fails');
    await propose(w, { arguments: { n: 3 } });
    clock.jump(HOUR);
    await w.gw.consumerRunner.tick('always-fails');
    const afterwards = await scrape();
    assert.ok((sample(afterwards, 'countersign_event_consumer_backlog_events', { consumer: 'elsewhere' }) ?? 0) >= 1);
    assert.ok((sample(afterwards, 'countersign_event_consumer_backlog_oldest_seconds', { consumer: 'elsewhere' }) ?? 0) >= 3600);
    assert.equal(sample(afterwards, 'countersign_event_consumer_dead_letters', { consumer: 'always-fails' }), 1);
    assert.equal(sample(afterwards, 'countersign_event_consumer_backlog_events', { consumer: 'always-fails' }), 0, 'it passed the event');
    assert.equal(sample(afterwards, 'countersign_event_consumer_dead_letters', { consumer: 'elsewhere' }), 0);
  });

  test('every metric the Grafana dashboard queries is one /metrics exports', async () => {
    const exported = new Map<string, string>();
    for (const m of (await scrape()).matchAll(/^# TYPE (\S+) (\S+)$/gm)) exported.set(m[1] as string, m[2] as string);
    const queried = new Set(readFileSync(DASHBOARD, 'utf8').match(/\bcountersign_[a-zA-Z0-9_]+/g));
    assert.ok(queried.size >= 20, `the dashboard queries ${queried.size} metrics`);
    for (const name of queried) {
      const histogram = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
      const found = exported.has(name) || (histogram !== undefined && exported.get(histogram) === 'histogram');
      assert.ok(found, `${name} is exported by /metrics`);
    }
  });
});
