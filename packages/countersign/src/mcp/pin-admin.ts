import { CsError } from '../lib/errors.js';
import { type PinFile, type Pinned, readPinFile, type Seen, updatePinFile } from './pin-file.js';
import { changedFields, type Definition, type PinField } from './pins.js';

/**
 * What an operator does with pins (`countersign mcp pins list|accept|forget`). Each change is
 * made to the file as it is on disk at that moment, so running proxies' pins are kept; they
 * notice the new file on their next call or listing and classify by it from then on.
 */

export interface PinRow {
  server: string;
  tool: string;
  pinned_at: string;
  /** False for a pin written by a version 1 proxy that no proxy has checked since. */
  schema_recorded: boolean;
  /** What differs in the last definition a proxy met, or null if none differed. */
  changed: PinField[] | null;
  seen_at: string | null;
}

export function listPins(file: string): PinRow[] {
  const { servers } = readPinFile(file);
  const rows: PinRow[] = [];
  for (const server of Object.keys(servers).sort()) {
    const tools = servers[server] ?? {};
    for (const tool of Object.keys(tools).sort()) {
      const p = tools[tool] as Pinned;
      rows.push({
        server,
        tool,
        pinned_at: p.pinned_at,
        schema_recorded: p.input_schema !== undefined,
        changed: p.seen ? changedFields(p, definitionOfSeen(p.seen)) : null,
        seen_at: p.seen?.seen_at ?? null,
      });
    }
  }
  return rows;
}

export type AcceptResult = { accepted: true; fields: PinField[]; seen_at: string } | { accepted: false };

/**
 * Pins the definition a proxy last met instead of the pinned one: exactly what reviewers were
 * shown as `current`, never whatever the server may offer next. Nothing recorded: nothing to accept.
 */
export function acceptPin(file: string, server: string, tool: string, now: Date): AcceptResult {
  let result: AcceptResult = { accepted: false };
  // The change may run twice (again under the lock on a fresh read): the last run's answer is the one.
  updatePinFile(file, (d) => {
    result = { accepted: false };
    const pinned = existingPin(d, file, server, tool);
    if (pinned.seen === undefined) return false;
    const accepted = definitionOfSeen(pinned.seen);
    result = { accepted: true, fields: changedFields(pinned, accepted), seen_at: pinned.seen.seen_at };
    serverPins(d, file, server)[tool] = { ...accepted, pinned_at: now.toISOString() };
    return true;
  });
  return result;
}

/** Removes one tool's pin, or every pin of a server; the next use pins what the server offers then. Returns the tools removed. */
export function forgetPins(file: string, server: string, tool: string | undefined): string[] {
  let removed: string[] = [];
  updatePinFile(file, (d) => {
    removed = [];
    if (tool === undefined) {
      removed = Object.keys(serverPins(d, file, server));
      delete d.servers[server];
      return true;
    }
    existingPin(d, file, server, tool);
    const pins = serverPins(d, file, server);
    delete pins[tool];
    if (Object.keys(pins).length === 0) delete d.servers[server];
    removed = [tool];
    return true;
  });
  return removed;
}

function serverPins(d: PinFile, file: string, server: string): Record<string, Pinned> {
  const pins = Object.hasOwn(d.servers, server) ? d.servers[server] : undefined;
  if (pins === undefined) {
    const known = Object.keys(d.servers);
    throw new CsError(
      'not_found',
      `no pins for server ${JSON.stringify(server)} in ${file}` +
        (known.length ? `; it has pins for ${known.map((s) => JSON.stringify(s)).join(', ')}` : '; it has no pins'),
    );
  }
  return pins;
}

function existingPin(d: PinFile, file: string, server: string, tool: string): Pinned {
  const pins = serverPins(d, file, server);
  const pinned = Object.hasOwn(pins, tool) ? pins[tool] : undefined;
  if (pinned === undefined) {
    throw new CsError(
      'not_found',
      `server ${JSON.stringify(server)} has no pin for a tool ${JSON.stringify(tool)} in ${file} (${Object.keys(pins).length} tool(s) pinned; see "countersign mcp pins list")`,
    );
  }
  return pinned;
}

/** A recorded observation always carries its schemas; the defaults only satisfy the file's type. */
function definitionOfSeen(seen: Seen): Definition {
  return {
    fingerprint: seen.fingerprint,
    description: seen.description,
    annotations: seen.annotations,
    input_schema: seen.input_schema ?? {},
    output_schema: seen.output_schema ?? null,
  };
}
