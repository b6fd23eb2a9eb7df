import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
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
 * may have written it since we last read it) and says whether it changed anything. Returns what
 * is on disk afterwards. The write is a rename, so a reader never sees half a file.
 */
export function updatePinFile(file: string, change: (data: PinFile) => boolean): PinFile {
  const fresh = readPinFile(file);
  if (change(fresh)) writePinFile(file, fresh);
  return fresh;
}

function writePinFile(file: string, data: PinFile): void {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch (e) {
    throw new CsError('unavailable', `cannot write the MCP pin file ${file}: ${(e as Error).message}`);
  }
}
