import type { ExportEntry } from './types.js';
import { entryId } from './types.js';

export interface SyslogFormat {
  facility: number;
  hostname: string;
  appName: string;
  sdId: string;
}

/** Severity 6 (informational): an audit entry is a record, not an alarm. */
const SEVERITY = 6;
const BOM = '\uFEFF';

/** RFC 5424 §6.3.3: inside a PARAM-VALUE, '"', '\' and ']' are escaped with a backslash. */
function paramValue(v: string): string {
  return v.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** MSGID is 1-32 printable ASCII characters: the audit event name when it fits, else "-" (the SD carries it anyway). */
function msgId(event: string): string {
  return /^[!-~]{1,32}$/.test(event) ? event : '-';
}

/**
 * One entry as an RFC 5424 message:
 * `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [sd-id id= seq= hash= prev_hash= …] BOM{entry as JSON}`.
 * The structured data carries what a receiver de-duplicates and chains by; the MSG is the whole entry
 * (UTF-8, announced by the BOM as §6.4 asks), from which its hash can be checked again.
 */
export function formatSyslog(e: ExportEntry, f: SyslogFormat): string {
  const pri = f.facility * 8 + SEVERITY;
  const params: [string, string | null][] = [
    ['id', entryId(e)],
    ['seq', String(e.seq)],
    ['hash', e.hash],
    ['prev_hash', e.prev_hash],
    ['event', e.event],
    ['actor_type', e.actor_type],
    ['actor_id', e.actor_id],
    ['action_id', e.action_id],
  ];
  const sd = `[${f.sdId}${params
    .filter((p): p is [string, string] => p[1] !== null)
    .map(([k, v]) => ` ${k}="${paramValue(v)}"`)
    .join('')}]`;
  return `<${pri}>1 ${e.time} ${f.hostname} ${f.appName} - ${msgId(e.event)} ${sd} ${BOM}${JSON.stringify(e)}`;
}

/** RFC 6587 §3.4.1 octet counting: `MSG-LEN SP SYSLOG-MSG`, the length in bytes of the UTF-8 message. */
export function octetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}
