import type { Tool } from '@modelcontextprotocol/client';
import { canonicalJson, sha256Hex } from '../lib/canonical.js';
import { type FileStamp, fileStamp, type PinFile, type Pinned, readPinFile, updatePinFile } from './pin-file.js';

export type { Pinned } from './pin-file.js';

/**
 * Trust on first use for tool definitions. Annotations, descriptions and schemas are what the
 * upstream server controls; a server that was read-only yesterday can claim anything today (a
 * "rug pull"), and can change what an argument means without changing a word of its description.
 * The first definition seen for each (server, tool) is pinned in a file, so the pin survives the
 * proxy's restarts (a stdio proxy restarts with every host session); a later definition that
 * differs sends every call of that tool to review until an operator accepts it (`countersign mcp
 * pins accept`) or forgets the pin.
 */
export type PinField = 'description' | 'annotations' | 'input_schema' | 'output_schema';

export type PinCheck = { changed: false } | { changed: true; fields: PinField[]; pinned: Pinned };

/** A tool's standing in the catalogue; `unpinned`: its pin could not be written (file unreadable, disk full), so it is held for review. */
export type PinState = PinCheck | { changed: true; unpinned: string };

/** The pinned part of a tool's definition, with a fingerprint of all of it. */
export interface Definition {
  fingerprint: string;
  description: string | null;
  annotations: Record<string, unknown> | null;
  input_schema: Record<string, unknown>;
  output_schema: Record<string, unknown> | null;
}

export class PinStore {
  private constructor(
    readonly file: string,
    private data: PinFile,
    private stamp: FileStamp,
  ) {}

  /** Opens (or starts) the pin file. A file that is not a pin file is an error, never silently replaced. */
  static open(file: string): PinStore {
    const stamp = fileStamp(file);
    return new PinStore(file, readPinFile(file), stamp);
  }

  /**
   * Re-reads the file if someone (the CLI accepting or forgetting a pin, another proxy) wrote it
   * since, and says whether it did. A file that no longer parses throws, once; the pins read
   * before stay in force.
   */
  reloadIfChanged(): boolean {
    const stamp = fileStamp(this.file);
    if (stamp === this.stamp) return false;
    this.stamp = stamp;
    this.data = readPinFile(this.file);
    return true;
  }

  /**
   * Compares a tool's current definition with its pin, pinning it when it is new.
   * Throws `unavailable` if a new pin cannot be written: an unrecorded pin would protect nothing.
   */
  check(server: string, tool: Tool, now: Date, current: Definition = definitionOf(tool)): PinCheck {
    let pinned = this.data.servers[server]?.[tool.name];
    if (pinned === undefined) {
      // Another proxy may have pinned it since we read the file: its pin stands.
      pinned = this.update(server, tool.name, (onDisk) => onDisk ?? { ...current, pinned_at: now.toISOString() });
    } else if (lacksSchema(pinned, current)) {
      pinned = this.adoptSchema(server, tool.name, pinned, current);
    }
    if (pinned === undefined) throw new Error(`no pin recorded for ${server}/${tool.name}`);
    const fields = changedFields(pinned, current);
    this.observe(server, tool.name, pinned, fields.length > 0 ? current : undefined, now);
    return fields.length === 0 ? { changed: false } : { changed: true, fields, pinned };
  }

  /**
   * A pin from a version 1 file has no schema. Its text and hints still match, so today's schema
   * is taken as the one it always had: upgrading the proxy must not send every tool to review.
   */
  private adoptSchema(server: string, tool: string, pinned: Pinned, current: Definition): Pinned {
    const adopt = (p: Pinned): Pinned => ({ ...p, ...schemasOf(current), fingerprint: current.fingerprint });
    try {
      return this.update(server, tool, (onDisk) => (onDisk && lacksSchema(onDisk, current) ? adopt(onDisk) : onDisk)) ?? adopt(pinned);
    } catch {
      // A read-only pin file worked before the upgrade; it still does, with the schema held in memory.
      const adopted = adopt(pinned);
      this.data.servers[server] = { ...this.data.servers[server], [tool]: adopted };
      return adopted;
    }
  }

  /**
   * Records the different definition met (or clears one that is gone), for `pins list` and
   * `pins accept`. Best effort: the check does not depend on it.
   */
  private observe(server: string, tool: string, pinned: Pinned, changed: Definition | undefined, now: Date): void {
    if (pinned.seen?.fingerprint === changed?.fingerprint) return;
    try {
      this.update(server, tool, (onDisk) => {
        // Accepted or re-pinned meanwhile: the next check compares with that pin instead.
        if (onDisk === undefined || onDisk.fingerprint !== pinned.fingerprint) return onDisk;
        const { seen: _, ...rest } = onDisk;
        return changed ? { ...rest, seen: { ...changed, seen_at: now.toISOString() } } : rest;
      });
    } catch {
      // Only an operator's view is lost; the pin still forces review.
    }
  }

  /** Changes one tool's entry in the file as it is on disk now (keeping everyone else's); returns the entry after. */
  private update(server: string, tool: string, change: (onDisk: Pinned | undefined) => Pinned | undefined): Pinned | undefined {
    const { data, stamp } = updatePinFile(this.file, (d) => {
      const onDisk = d.servers[server]?.[tool];
      const next = change(onDisk);
      if (next === undefined || next === onDisk) return false;
      d.servers[server] = { ...d.servers[server], [tool]: next };
      return true;
    });
    this.data = data;
    this.stamp = stamp;
    return this.data.servers[server]?.[tool];
  }
}

/** The pinned part of a definition: the text the model reads, the hints, and the shape of the arguments and results. */
export function definitionOf(tool: Tool): Definition {
  const description = tool.description ?? null;
  const annotations = (tool.annotations as Record<string, unknown> | undefined) ?? null;
  const input_schema = (tool.inputSchema as Record<string, unknown> | undefined) ?? {};
  const output_schema = (tool.outputSchema as Record<string, unknown> | undefined) ?? null;
  const fingerprint = sha256Hex(canonicalJson({ annotations, description, input_schema, output_schema }));
  return { fingerprint, description, annotations, input_schema, output_schema };
}

/** Which parts of the current definition differ from the pin; schemas only where the pin has them. */
export function changedFields(pinned: Pinned, current: Definition): PinField[] {
  const fields: PinField[] = [];
  if (pinned.description !== current.description) fields.push('description');
  if (!sameJson(pinned.annotations, current.annotations)) fields.push('annotations');
  if (pinned.input_schema !== undefined) {
    if (!sameJson(pinned.input_schema, current.input_schema)) fields.push('input_schema');
    if (!sameJson(pinned.output_schema ?? null, current.output_schema)) fields.push('output_schema');
  }
  return fields;
}

/** A version 1 pin whose text and hints match: only the schema is missing. */
function lacksSchema(pinned: Pinned, current: Definition): boolean {
  return pinned.input_schema === undefined && changedFields(pinned, current).length === 0;
}

const schemasOf = (d: Definition) => ({ input_schema: d.input_schema, output_schema: d.output_schema });
const sameJson = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
