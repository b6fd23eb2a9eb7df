import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { CsError } from '../lib/errors.js';

/**
 * The pin file's format and its only writer. Version 1 pinned a tool's description and
 * annotations; version 2 adds its input and output schemas (a server can change what arguments
 * mean without touching its text) and `seen`, the last different definition a proxy met, so an
 * operator can look at it and accept it. A version 1 file still loads: its pins simply have no
 * schema recorded yet (pins.ts adopts the current one on first check). Files are written as version 2.
 */
const JsonObject = z.record(z.string(), z.unknown());

const DefinitionFields = {
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  description: z.string().nullable(),
  annotations: JsonObject.nullable(),
  /** Absent in pins written by version 1: no schema recorded yet. */
  input_schema: JsonObject.optional(),
  /** null: the tool has no output schema. Recorded together with input_schema. */
  output_schema: JsonObject.nullable().optional(),
};

const SeenSchema = z.strictObject({ ...DefinitionFields, seen_at: z.string() });

const PinnedSchema = z.strictObject({
  ...DefinitionFields,
  pinned_at: z.string(),
  /** The last definition a proxy saw that differs from this pin (what `pins accept` would pin). */
  seen: SeenSchema.optional(),
});
export type Pinned = z.infer<typeof PinnedSchema>;
export type Seen = z.infer<typeof SeenSchema>;

export const PIN_FILE_VERSION = 2;

const PinFileSchema = z.strictObject({
  version: z.union([z.literal(1), z.literal(2)]),
  servers: z.record(z.string(), z.record(z.string(), PinnedSchema)),
});
/** In memory a file is always the current version; version 1 is only ever read. */
export interface PinFile {
  version: typeof PIN_FILE_VERSION;
  servers: Record<string, Record<string, Pinned>>;
}

/** What identifies one state of the file on disk: every write is a rename, so a new inode. */
export type FileStamp = string;

export function fileStamp(file: string): FileStamp {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.mtimeMs}:${s.size}`;
  } catch {
    return 'absent';
  }
}

/** Reads the pin file; a missing file is an empty one. Anything else that is not a pin file is refused, never replaced. */
export function readPinFile(file: string): PinFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: PIN_FILE_VERSION, servers: {} };
    throw new CsError('unavailable', `cannot read the MCP pin file ${file}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const version = (parsed as { version?: unknown } | undefined)?.version;
  if (typeof version === 'number' && version > PIN_FILE_VERSION) {
    throw new CsError('invalid_request', `${file} is a version ${version} pin file, written by a newer Countersign; upgrade to use it`);
  }
  const result = PinFileSchema.safeParse(parsed);
  if (!result.success) throw new CsError('invalid_request', `${file} is not a Countersign MCP pin file; move it away to start over`);
  return { version: PIN_FILE_VERSION, servers: result.data.servers };
}

/**
 * Read, change, write: `change` edits the file as it is on disk now (another proxy or the CLI
 * may have written it since we last read it) and says whether it changed anything; it may run
 * twice, the second time under the lock. Returns what is on disk afterwards, and its stamp. The
 * write is a rename, so a reader never sees half a file.
 */
export function updatePinFile(file: string, change: (data: PinFile) => boolean): { data: PinFile; stamp: FileStamp } {
  // Most checks change nothing: those read without the lock. The stamp is taken before the read,
  // so a write that lands after it is noticed by the next reload rather than missed.
  const stamp = fileStamp(file);
  const seen = readPinFile(file);
  if (!change(seen)) return { data: seen, stamp };
  return withLock(file, () => {
    // Read again under the lock: another writer may have changed the file since.
    const fresh = readPinFile(file);
    if (change(fresh)) writePinFile(file, fresh);
    return { data: fresh, stamp: fileStamp(file) };
  });
}

const LOCK_WAIT_MS = 5_000;
/** A lock older than this was left by a writer that died: no live writer holds it for more than a write. */
const STALE_LOCK_MS = 30_000;

/**
 * Every writer (running proxies, `countersign mcp pins`) changes the file under `FILE.lock`,
 * taken with O_EXCL, so two read-change-writes never interleave and lose one of the changes.
 * Synchronous, as the pin checks are: a write takes a millisecond, so a wait is short.
 */
function withLock<T>(file: string, fn: () => T): T {
  const lock = `${file}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  let fd: number | undefined;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new CsError('unavailable', `cannot write the MCP pin file ${file}: ${(e as Error).message}`);
  }
  while (fd === undefined) {
    try {
      fd = openSync(lock, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new CsError('unavailable', `cannot lock the MCP pin file ${file}: ${(e as Error).message}`);
      }
      if (lockAgeMs(lock) > STALE_LOCK_MS) rmSync(lock, { force: true });
      else if (Date.now() > deadline) {
        throw new CsError('unavailable', `the MCP pin file ${file} stayed locked (${lock}) for ${LOCK_WAIT_MS / 1000} s`);
      } else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
  try {
    return fn();
  } finally {
    closeSync(fd);
    rmSync(lock, { force: true });
  }
}

function lockAgeMs(lock: string): number {
  try {
    return Date.now() - statSync(lock).mtimeMs;
  } catch {
    return 0;
  }
}

function writePinFile(file: string, data: PinFile): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    // Flushed before the rename, so a crash leaves the old file or the new one, never an empty one.
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeFileSync(fd, `${JSON.stringify(data, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new CsError('unavailable', `cannot write the MCP pin file ${file}: ${(e as Error).message}`);
  }
}
