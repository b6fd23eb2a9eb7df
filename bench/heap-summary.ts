/**
 * What a parked waiter holds, by constructor: compares two V8 heap snapshots of the gateway (written by
 * bench/waiters.ts with BENCH_WAITERS_HEAP_SNAPSHOTS) and prints, per constructor, how many more objects
 * the second holds and their self size, divided by the number of waiters. The totals of a snapshot alone
 * (what the gateway with pending actions but no waiters is made of) are printed with one argument.
 *
 *   node --import tsx bench/heap-summary.ts bench/results/heap/sqlite-long-poll-2000-before.heapsnapshot \
 *     bench/results/heap/sqlite-long-poll-2000-parked.heapsnapshot 2000
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

interface Tally {
  count: number;
  bytes: number;
}

/** Self size and count per "type:name" (objects, closures and native objects by name; the rest by type). */
function tally(path: string): Map<string, Tally> {
  const snap = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const edgeCountAt = fields.indexOf('edge_count');
  const edgeWidth = snap.snapshot.meta.edge_fields.length;
  const edgeTypes = snap.snapshot.meta.edge_types[0];
  const edgeTypeAt = snap.snapshot.meta.edge_fields.indexOf('type');
  const edgeNameAt = snap.snapshot.meta.edge_fields.indexOf('name_or_index');
  const out = new Map<string, Tally>();
  let edge = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt] as number] as string;
    const name = snap.strings[snap.nodes[i + nameAt] as number] as string;
    const edges = snap.nodes[i + edgeCountAt] as number;
    // Plain objects are told apart by their first property names (their shape), arrays by what holds them.
    let shape = '';
    if (type === 'object' && name === 'Object') {
      const props: string[] = [];
      for (let e = edge; e < edge + edges * edgeWidth && props.length < 4; e += edgeWidth)
        if (edgeTypes[snap.edges[e + edgeTypeAt] as number] === 'property')
          props.push(snap.strings[snap.edges[e + edgeNameAt] as number] as string);
      shape = `{${props.join(',')}}`;
    }
    edge += edges * edgeWidth;
    const named =
      type === 'object' || type === 'closure' || type === 'native' || type === 'array' || (type === 'hidden' && name.length < 60);
    const key = named ? `${type}:${name.slice(0, 60)}${shape}` : type;
    const t = out.get(key) ?? { count: 0, bytes: 0 };
    t.count += 1;
    t.bytes += snap.nodes[i + sizeAt] as number;
    out.set(key, t);
  }
  return out;
}

const [a, b, n] = process.argv.slice(2);
if (!a) {
  console.error('usage: heap-summary.ts SNAPSHOT [SNAPSHOT_WITH_WAITERS WAITERS]');
  process.exit(2);
}
const before = tally(a);
const total = (m: Map<string, Tally>) => [...m.values()].reduce((s, t) => s + t.bytes, 0);
if (!b) {
  console.log(`${a}: ${(total(before) / 1024 / 1024).toFixed(1)} MB of objects`);
  console.log('| type:constructor | count | self MB |');
  console.log('| --- | --- | --- |');
  for (const [k, t] of [...before].sort((x, y) => y[1].bytes - x[1].bytes).slice(0, 40))
    console.log(`| ${k} | ${t.count} | ${(t.bytes / 1024 / 1024).toFixed(2)} |`);
} else {
  const waiters = Number(n ?? 1);
  const after = tally(b);
  const rows = [...after].map(([k, t]) => {
    const was = before.get(k) ?? { count: 0, bytes: 0 };
    return { k, count: (t.count - was.count) / waiters, bytes: (t.bytes - was.bytes) / waiters };
  });
  console.log(`per waiter (${waiters}): ${((total(after) - total(before)) / waiters).toFixed(0)} bytes of objects`);
  console.log('| type:constructor | objects per waiter | bytes per waiter |');
  console.log('| --- | --- | --- |');
  for (const r of rows.sort((x, y) => y.bytes - x.bytes).slice(0, 40))
    console.log(`| ${r.k} | ${r.count.toFixed(2)} | ${r.bytes.toFixed(0)} |`);
}
