/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`): top functions by self
 * time, and self time grouped by where the code lives (gateway source file,
 * npm package, Node internals). Usable on its own:
 *
 *   node --import tsx bench/profile-summary.ts bench/results/prof/sqlite.cpuprofile [top]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

/** Functions whose inclusive time (self + callees, synchronous part of each await step) the summary reports. */
const INCLUSIVE = [
  // gateway
  'authenticate',
  'proposeAction',
  'parseInput',
  'checkArguments',
  'canonicalJson',
  'sha256Hex',
  'toActionView',
  'transact',
  'appendLogs',
  'auditEntryHash',
  'sendError',
  // libraries
  'compileQuery',
  'executeQuery',
  'prepare',
  'observe',
  'serialize',
  '_parse',
  'uuidv7',
];

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  functions: { name: string; where: string; selfMs: number; pct: number }[];
  groups: { group: string; selfMs: number; pct: number }[];
  inclusive: { name: string; ms: number; pct: number }[];
  /** Every sample charged to the innermost gateway (packages/countersign/src) frame on its stack, library time included. */
  charged: { where: string; ms: number; pct: number }[];
}

/** Gateway code: its TypeScript source (run through tsx) or the copy core.ts compiles for profiling. */
const GATEWAY_RE = /packages\/countersign\/src\/|bench\/results\/build\//;

function shortUrl(url: string): string {
  if (!url) return '';
  const u = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = u.lastIndexOf('node_modules/');
  if (nm !== -1) return u.slice(nm + 'node_modules/'.length);
  const src = u.indexOf('packages/countersign/');
  if (src !== -1) return u.slice(src);
  const build = u.indexOf('/bench/results/build/');
  if (build !== -1) return `build/${u.slice(build + '/bench/results/build/'.length)}`;
  const bench = u.indexOf('/bench/');
  if (bench !== -1) return u.slice(bench + 1);
  return u;
}

function groupOf(url: string, name: string): string {
  if (!url) {
    if (name === '(garbage collector)' || name === '(program)' || name === '(idle)') return name;
    return '(native/builtin)';
  }
  const s = shortUrl(url);
  if (s.startsWith('node:')) return 'node internals';
  if (s.startsWith('packages/') || s.startsWith('bench/') || s.startsWith('build/')) return s;
  const parts = s.split('/');
  const pkg = parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  return `npm:${pkg}`;
}

export function summarizeProfile(path: string, top = 25): ProfileSummary {
  const prof = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of prof.nodes) byId.set(n.id, n);
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; attribute it to the sample's node (the usual approximation).
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i] as number;
    const dt = prof.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const fn = new Map<string, { name: string; where: string; us: number }>();
  const groups = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    total += us;
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const e = fn.get(key) ?? { name, where, us: 0 };
    e.us += us;
    fn.set(key, e);
    const g = groupOf(url, name);
    groups.set(g, (groups.get(g) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number) => (busy > 0 ? (100 * us) / busy : 0);

  // Inclusive time: walk each sample's stack once, crediting every listed function on it.
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const wanted = new Set(INCLUSIVE);
  const incl = new Map<string, number>();
  const charged = new Map<string, number>();
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = Math.max(0, prof.timeDeltas[i + 1] ?? 0);
    const seen = new Set<string>();
    let owner: string | undefined;
    for (let id: number | undefined = prof.samples[i]; id !== undefined; id = parent.get(id)) {
      const cf = byId.get(id)?.callFrame;
      const name = cf?.functionName ?? '';
      if (wanted.has(name) && !seen.has(name)) {
        seen.add(name);
        incl.set(name, (incl.get(name) ?? 0) + dt);
      }
      if (owner === undefined && cf && GATEWAY_RE.test(cf.url)) {
        owner = `${name || '(anonymous)'}  ${shortUrl(cf.url).replace('packages/countersign/', '')}:${cf.lineNumber + 1}`;
      }
    }
    const root = byId.get(prof.samples[i] as number)?.callFrame.functionName;
    if (root === '(idle)') continue;
    const key =
      owner ?? (root === '(garbage collector)' || root === '(program)' ? root : '(no gateway frame: HTTP stack, timers, I/O callbacks)');
    charged.set(key, (charged.get(key) ?? 0) + dt);
  }
  return {
    totalMs: total / 1000,
    idleMs: idle / 1000,
    functions: [...fn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, pct: pct(e.us) })),
    groups: [...groups.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([group, us]) => ({ group, selfMs: us / 1000, pct: pct(us) })),
    charged: [...charged.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([where, us]) => ({ where, ms: us / 1000, pct: pct(us) })),
    inclusive: INCLUSIVE.filter((n) => incl.has(n)).map((name) => ({
      name,
      ms: (incl.get(name) ?? 0) / 1000,
      pct: pct(incl.get(name) ?? 0),
    })),
  };
}

export function formatProfileSummary(title: string, s: ProfileSummary): string {
  const out: string[] = [];
  const busy = s.totalMs - s.idleMs;
  out.push(
    `${title}: ${busy.toFixed(0)} ms busy of ${s.totalMs.toFixed(0)} ms sampled (${((100 * busy) / Math.max(1, s.totalMs)).toFixed(0)}% busy)`,
  );
  out.push('  self time by location (% of busy time):');
  for (const g of s.groups) out.push(`    ${g.pct.toFixed(1).padStart(5)}%  ${g.selfMs.toFixed(0).padStart(7)} ms  ${g.group}`);
  out.push('  time charged to the innermost gateway function on the stack (library callees included):');
  for (const c of s.charged) out.push(`    ${c.pct.toFixed(1).padStart(5)}%  ${c.ms.toFixed(0).padStart(7)} ms  ${c.where}`);
  out.push('  inclusive time of selected functions (synchronous part; % of busy time):');
  for (const f of [...s.inclusive].sort((a, b) => b.ms - a.ms))
    out.push(`    ${f.pct.toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}`);
  out.push('  top functions by self time:');
  for (const f of s.functions) {
    out.push(`    ${f.pct.toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.name}  ${f.where}`);
  }
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: profile-summary.ts FILE.cpuprofile [top]');
    process.exit(2);
  }
  console.log(formatProfileSummary(file, summarizeProfile(file, top ? Number(top) : 25)));
}
