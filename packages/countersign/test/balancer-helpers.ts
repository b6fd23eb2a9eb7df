/**
 * Several `countersign serve` processes on one PostgreSQL schema behind a real HAProxy running the shipped
 * deploy/haproxy.cfg (only its addresses and check interval come from the environment, as the file allows).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { childEnv } from './cli-serve-helpers.js';
import { listeningUrl } from './crash-helpers.js';
import { CLI_MAIN, REPO_ROOT } from './helpers.js';

export const HAPROXY_CFG = join(REPO_ROOT, 'deploy/haproxy.cfg');

/** The haproxy binary, or a failure that says how to get it: CI installs it (.ci/run), so a missing one is never a skip. */
export function requireHaproxy(): string {
  const bin = process.env.COUNTERSIGN_TEST_HAPROXY ?? 'haproxy';
  const probe = spawnSync(bin, ['-v'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `HAProxy is needed for the multi-node test and "${bin} -v" failed (${probe.error?.message ?? probe.stderr}). ` +
        'Install it: apt-get install -y haproxy (.ci/run does), or point COUNTERSIGN_TEST_HAPROXY at the binary.',
    );
  }
  return bin;
}

/** A port nothing listens on right now (HAProxy cannot bind port 0 and report it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export interface Node {
  name: string;
  url: string;
  proc: ChildProcess;
  stderr(): string;
}

/** Starts `countersign serve` on its own data dir (its own keyring, as on its own host) and reads its address. */
export async function startNode(name: string, args: string[], env: Record<string, string>): Promise<Node> {
  const proc = spawn(process.execPath, [CLI_MAIN, 'serve', '--port', '0', ...args], {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr = (stderr + s).slice(-20_000);
  });
  const url = await listeningUrl(proc, name, () => stderr);
  return { name, url, proc, stderr: () => stderr };
}

/** Ends a child with a signal and waits for it to be gone (SIGKILL: no shutdown code runs at all). */
export async function signal(proc: ChildProcess | undefined, sig: NodeJS.Signals): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, 'exit');
  proc.kill(sig);
  await exited;
}

export interface Balancer {
  url: string;
  proc: ChildProcess;
  log(): string;
}

/** Runs HAProxy in the foreground (-db) on the shipped config, in front of `nodes`, and waits until it routes. */
export async function startBalancer(bin: string, nodes: Node[], checkInterval = '200ms'): Promise<Balancer> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    COUNTERSIGN_LB_BIND: `127.0.0.1:${port}`,
    COUNTERSIGN_CHECK_INTER: checkInterval,
  };
  nodes.forEach((n, i) => {
    env[`COUNTERSIGN_NODE${i + 1}`] = new URL(n.url).host;
  });
  const proc = spawn(bin, ['-db', '-f', HAPROXY_CFG], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr?.setEncoding('utf8').on('data', (s: string) => {
    log = (log + s).slice(-400_000);
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`haproxy exited (${proc.exitCode}):\n${log}`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (i > 200) throw new Error(`haproxy never routed to a ready gateway:\n${log}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return { url, proc, log: () => log };
}

/** One gauge or counter of a node's /metrics, summed over the label sets that contain `label`. */
export async function metric(nodeUrl: string, name: string, label = ''): Promise<number> {
  const text = await (await fetch(`${nodeUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (label && !line.includes(label)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
