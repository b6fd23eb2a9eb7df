/*
 * Running `countersign propose` as a child process while a test decides its action: shared by
 * cli-propose.test.ts (the command) and cli-propose-ci.test.ts (the GitHub Actions job in docs/ci.md).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { type CliResult, REPO_ROOT } from './helpers.js';

/** Deploys wait for a reviewer; smoke tests pass at once; dropping a database is refused by the policy. */
export const POLICY = `
policy:
  default: review
  rules:
    - name: smoke-tests-pass
      when: tool == "smoke_test"
      effect: allow
    - name: no-drops
      when: tool == "drop_database"
      effect: deny
      reason: databases are never dropped from CI
workflows:
  default:
    stages:
      - approvers: { roles: [reviewer] }
`;

/** The parent's environment without any COUNTERSIGN_* setting, plus `extra`. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('COUNTERSIGN_')) env[k] = v;
  return { ...env, ...extra };
}

export interface Running {
  done: Promise<CliResult>;
  /** Resolves with the first match of `re` on stderr so far (the command's progress lines). */
  stderrMatch(re: RegExp): Promise<RegExpMatchArray>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts a child process (`argv`) with `input` on stdin, without waiting for it to end. */
export function start(argv: string[], env: NodeJS.ProcessEnv, input = '', opts: { cwd?: string } = {}): Running {
  const child = spawn(argv[0] as string, argv.slice(1), { cwd: opts.cwd ?? REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    for (const w of watchers.splice(0)) {
      const m = stderr.match(w.re);
      if (m) w.resolve(m);
      else watchers.push(w);
    }
  });
  child.stdin.end(input);
  const done = once(child, 'close').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return {
    done,
    kill: (signal) => void child.kill(signal),
    stderrMatch: (re) =>
      new Promise((resolve, reject) => {
        const m = stderr.match(re);
        if (m) return resolve(m);
        watchers.push({ re, resolve });
        void done.then((r) => reject(new Error(`the command ended (exit ${r.code}) before stderr matched ${re}\n${r.stderr}`)));
      }),
  };
}

/** Asserts the exit status, showing the output when it differs. */
export function exits(r: CliResult, code: number): CliResult {
  assert.equal(r.code, code, `expected exit ${code}, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

// biome-ignore lint/suspicious/noExplicitAny: the command's JSON output; the assertions check its shape
export const json = (r: CliResult): any => JSON.parse(r.stdout);

/** The pending action's id, from the progress line the command prints while it waits. */
export const waitingId = async (run: Running) => (await run.stderrMatch(/countersign approve (\S+)"/))[1] as string;
