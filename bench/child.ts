/** Starts bench/server.ts in its own process and talks to it over IPC. */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GcMessage, ReadyMessage, ServerMode, StatsMessage } from './protocol.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

export interface ServerHandle {
  mode: ServerMode;
  url: string;
  keys: ReadyMessage['keys'];
  pid: number;
  stats(): Promise<StatsMessage>;
  resetStats(): void;
  /** Runs a full collection in the server (started with `exposeGc`); resolves false if it could not. */
  gc(): Promise<boolean>;
  stop(): Promise<void>;
}

export interface StartOptions {
  schema?: string;
  /** Write a V8 CPU profile of the server process into this directory. */
  cpuProfDir?: string;
  /** Load the gateway from this directory of compiled JS instead of its TypeScript source. */
  packageDir?: string;
  /** Extra environment for the server (bench/server.ts reads BENCH_JOIN and BENCH_NOTIFY). */
  env?: Record<string, string>;
  /** Start the server with --expose-gc, so `gc()` can run a full collection before a memory reading. */
  exposeGc?: boolean;
  /**
   * bench/server.ts compiled to JavaScript (with `packageDir`): run by plain node, without the tsx loader
   * and its module-hooks thread (about 35 MB of RSS, which a memory figure must not count).
   */
  serverScript?: string;
}

/**
 * The node flags the product starts the gateway with: those on the `countersign` bin's shebang line
 * (deploy/Dockerfile and the systemd unit carry the same; deploy-files.test.ts checks). Every gateway child
 * (`sqlite`, `postgres`) runs with them, so its CPU and memory figures are the product's; the echo rows, which
 * show what the machine allows, run without. BENCH_NODE_FLAGS replaces them (e.g. empty, for a build whose
 * product ran without any).
 */
export const GATEWAY_NODE_FLAGS = process.env.BENCH_NODE_FLAGS ?? binNodeFlags();

function binNodeFlags(): string {
  const shebang = readFileSync(join(HERE, '..', 'packages', 'countersign', 'bin', 'countersign.js'), 'utf8').split('\n', 1)[0] ?? '';
  return /^#!\/usr\/bin\/env -S node (.+)$/.exec(shebang)?.[1]?.trim() ?? '';
}

const live = new Set<ChildProcess>();

/** Kills any server child still running (used on abnormal exit of the parent). */
export function killAll(): void {
  for (const c of live) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
}

export function startServer(mode: ServerMode, opts: StartOptions = {}): Promise<ServerHandle> {
  const execArgv = opts.serverScript ? [] : ['--import', 'tsx'];
  if (opts.cpuProfDir) {
    mkdirSync(opts.cpuProfDir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`);
  }
  if (opts.exposeGc) execArgv.push('--expose-gc');
  if (mode === 'sqlite' || mode === 'postgres') execArgv.push(...GATEWAY_NODE_FLAGS.split(/\s+/).filter(Boolean));
  const args = [mode, ...(opts.schema ? [opts.schema] : [])];
  const env = { ...process.env, ...(opts.packageDir ? { BENCH_PACKAGE_DIR: opts.packageDir } : {}), ...opts.env };
  const child = fork(opts.serverScript ?? join(HERE, 'server.ts'), args, { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  live.add(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => live.delete(child));

  return new Promise<ServerHandle>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${mode} server did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    const early = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${mode} server exited with code ${code} before it was ready`));
    };
    child.once('exit', early);
    child.on('message', function onReady(msg: ReadyMessage) {
      if (msg?.type !== 'ready') return;
      clearTimeout(timer);
      child.off('message', onReady);
      child.off('exit', early);
      resolve({
        mode,
        url: msg.url,
        keys: msg.keys,
        pid: child.pid ?? -1,
        stats: () =>
          new Promise<StatsMessage>((res, rej) => {
            const t = setTimeout(() => rej(new Error('stats timed out')), 10_000);
            child.on('message', function onStats(m: StatsMessage) {
              if (m?.type !== 'stats') return;
              clearTimeout(t);
              child.off('message', onStats);
              res(m);
            });
            child.send({ type: 'stats' });
          }),
        resetStats: () => child.send({ type: 'reset-stats' }),
        gc: () =>
          new Promise<boolean>((res, rej) => {
            const t = setTimeout(() => rej(new Error('gc timed out')), 30_000);
            child.on('message', function onGc(m: GcMessage) {
              if (m?.type !== 'gc-done') return;
              clearTimeout(t);
              child.off('message', onGc);
              res(m.ran);
            });
            child.send({ type: 'gc' });
          }),
        async stop() {
          if (child.exitCode !== null) return;
          child.send({ type: 'stop' });
          const t = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
          const code = await exited;
          clearTimeout(t);
          if (code !== 0) throw new Error(`${mode} server exited with code ${code}`);
        },
      });
    });
  });
}
