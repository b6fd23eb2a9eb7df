/**
 * A PostgreSQL cluster of the test's own, from Debian's server binaries, so a test can stop and start it
 * mid-load. The shared server at 127.0.0.1:5432 serves every other test file running at the same time;
 * it is never touched here. Its data dir and socket dir live in one temp dir, owned by the `postgres`
 * user when the test runs as root (initdb and postgres refuse to run as root).
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PrivatePostgres {
  url: string;
  /** Stops the server like a crash (`-m immediate`: no checkpoint, sessions cut, WAL recovery on start). */
  crash(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/** The newest server binaries Debian installed, or null. */
function binDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

/** Why a private cluster cannot be made here, or null when it can. */
export function privatePostgresUnavailable(): string | null {
  if (!binDir()) return 'no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)';
  if (userInfo().uid === 0 && !existsSync('/usr/sbin/runuser')) return 'running as root without runuser to drop to the postgres user';
  return null;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

export interface PrivatePostgresOptions {
  /** Where the cluster's directory is made (default: the system temp dir), e.g. a small filesystem of the test's own. */
  parent?: string;
  /** More initdb arguments, e.g. `--wal-segsize=1` so the WAL fits a small disk. */
  initdb?: string[];
  /** More server settings (`name=value`), e.g. `max_wal_size=8MB`. */
  settings?: string[];
}

export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const bin = binDir() as string;
  const root = userInfo().uid === 0;
  const dir = mkdtempSync(join(options.parent ?? tmpdir(), 'cs-pg-'));
  if (root) {
    const ids = await run('id', ['-u', 'postgres']);
    const gids = await run('id', ['-g', 'postgres']);
    const [uid, gid] = [Number(ids.stdout.trim()), Number(gids.stdout.trim())];
    // The postgres user must be able to reach the directory through its parent too (a fresh mount is root's, 0700).
    if (options.parent) chownSync(options.parent, uid, gid);
    chownSync(dir, uid, gid);
  }
  const as = (cmd: string, args: string[]) =>
    root ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]) : run(join(bin, cmd), args);
  const data = join(dir, 'data');
  const port = await freePort();
  await as('initdb', [
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'postgres',
    '-E',
    'UTF8',
    '--no-sync',
    '--no-instructions',
    ...(options.initdb ?? []),
  ]);
  // fsync off: the machine does not crash in this test, only the server does, and the WAL replays from the page cache.
  const settings = ['listen_addresses=127.0.0.1', 'fsync=off', 'max_connections=40', 'shared_buffers=16MB', ...(options.settings ?? [])];
  const serverOptions = `-p ${port} -k ${dir} ${settings.map((s) => `-c ${s}`).join(' ')}`;
  const pgctl = (...args: string[]) => as('pg_ctl', ['-D', data, '-w', '-t', '30', ...args]);
  const start = async () => {
    await pgctl('-o', serverOptions, '-l', join(dir, 'server.log'), 'start');
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    crash: async () => {
      await pgctl('-m', 'immediate', 'stop');
    },
    start,
    destroy: async () => {
      await pgctl('-m', 'immediate', 'stop').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
