import { isAbsolute, resolve } from 'node:path';

/** Quotes a word for a POSIX shell when it needs it. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

export interface ServeStart {
  /** serve's own flags, as given. */
  data?: string | undefined;
  config?: string | undefined;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/**
 * What an admin command needs so it opens the database this `serve` opened: the same config file and
 * data dir (absolute, so it works from any directory), and the same database URL. A URL from the
 * environment is referred to by name, never printed: it may hold a password.
 */
export function adminTarget(s: ServeStart): { flags: string; envNote: string | null } {
  const flags: string[] = [];
  if (s.config !== undefined) flags.push('--config', shellWord(isAbsolute(s.config) ? s.config : resolve(s.cwd, s.config)));
  const dataDir = s.data ?? s.env.COUNTERSIGN_DATA_DIR;
  if (dataDir !== undefined) flags.push('--data', shellWord(isAbsolute(dataDir) ? dataDir : resolve(s.cwd, dataDir)));
  const envNote = s.env.COUNTERSIGN_DATABASE_URL ? 'with COUNTERSIGN_DATABASE_URL set as it is for this server' : null;
  return { flags: flags.length ? ` ${flags.join(' ')}` : '', envNote };
}

/** The first-run banner: the exact commands to add the first person and agent to this server's database. */
export function firstRunBanner(s: ServeStart): string {
  const { flags, envNote } = adminTarget(s);
  return (
    `\nNo people yet. In another terminal${envNote ? ` (${envNote})` : ''}${s.data === undefined && s.env.COUNTERSIGN_DATA_DIR === undefined && s.config === undefined ? `, in ${s.cwd}` : ''}:\n` +
    `  npx countersign users add you@example.com --role admin${flags}\n` +
    `  npx countersign agents add my-agent --owner someone-else@example.com${flags}\n\n`
  );
}

/** The first-run setup link: whoever opens it first becomes an admin with a password, so it goes to the operator's terminal only. */
export function setupBanner(url: string, ttlMs: number): string {
  const minutes = Math.round(ttlMs / 60_000);
  return (
    `\nNo admin can sign in yet. Open this one-time link within ${minutes} min to create the first admin and set a password\n` +
    `(it works once; every start prints a new one, and the first one used ends the others):\n  ${url}\n\n`
  );
}
