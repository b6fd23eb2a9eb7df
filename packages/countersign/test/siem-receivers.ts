import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { z } from 'zod';
import { auditEntryHash, GENESIS_HASH } from '../src/domain/audit/chain.js';
import { canonicalJson } from '../src/lib/canonical.js';

// Local stand-ins for the three SIEM protocols (HEC and OTLP in siem-http-receivers.ts). Each parses the wire strictly, as the real receiver would,
// writes every departure from the protocol into `problems` (a test asserts it stays empty), and records
// every entry it was given, duplicates included, in `got`.

/** An audit entry as it arrives (the exported view). */
export const WireEntry = z.strictObject({
  seq: z.number().int().positive(),
  ts: z.number().int(),
  time: z.iso.datetime(),
  actor_type: z.string(),
  actor_id: z.string().nullable(),
  event: z.string(),
  action_id: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  prev_hash: z.string().regex(/^[0-9a-f]{64}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type WireEntry = z.infer<typeof WireEntry>;

/** How the receiver answers the next request: take it, refuse it (down), or hold it open and never answer. */
export type Answer = 'ok' | 'down' | 'hang';

export abstract class Receiver {
  readonly got: WireEntry[] = [];
  readonly problems: string[] = [];
  /** The seqs each request carried (HTTP receivers), in arrival order. */
  readonly batches: number[][] = [];
  /** Answers for the next requests, first to last; 'ok' once they run out. */
  readonly answers: Answer[] = [];
  /** Requests being held open ('hang'): resolves each time one arrives. */
  private hangWaiters: (() => void)[] = [];
  protected hung: ServerResponse[] = [];

  protected nextAnswer(): Answer {
    return this.answers.shift() ?? 'ok';
  }

  protected entry(value: unknown, where: string): WireEntry | undefined {
    const r = WireEntry.safeParse(value);
    if (!r.success) {
      this.problems.push(`${where}: not an audit entry: ${r.error.message}`);
      return undefined;
    }
    return r.data;
  }

  protected held(res: ServerResponse): void {
    this.hung.push(res);
    for (const w of this.hangWaiters.splice(0)) w();
  }

  /** Resolves once a request is being held open. */
  hangingRequest(): Promise<void> {
    if (this.hung.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.hangWaiters.push(resolve));
  }
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

export async function listen(server: HttpServer | TcpServer): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

export async function closeServer(server: HttpServer | TcpServer | undefined, sockets: Set<Socket>): Promise<void> {
  if (!server) return;
  for (const s of sockets) s.destroy();
  if ('closeAllConnections' in server) server.closeAllConnections();
  await new Promise((r) => server.close(r));
}

/**
 * An RFC 5424 syslog receiver over TCP or TLS with RFC 6587 octet counting: a frame is `LEN SP MSG`, and
 * MSG is `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA SP BOM MSG`.
 */
export class SyslogReceiver extends Receiver {
  private server: TcpServer | undefined;
  private readonly sockets = new Set<Socket>();
  readonly frames: string[] = [];
  port = 0;

  constructor(private readonly tls?: { key: string; cert: string; ca: string }) {
    super();
  }

  async start(): Promise<void> {
    const onSocket = (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      if (this.tls && !(socket as TLSSocket).authorized) this.problems.push('a TLS client connected without a trusted client certificate');
      let buf = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        for (;;) {
          const sp = buf.indexOf(0x20);
          if (sp < 0) return;
          const len = buf.subarray(0, sp).toString('ascii');
          if (!/^[1-9]\d{0,8}$/.test(len)) {
            this.problems.push(`bad octet count "${len.slice(0, 20)}"`);
            socket.destroy();
            return;
          }
          if (buf.length < sp + 1 + Number(len)) return;
          this.message(buf.subarray(sp + 1, sp + 1 + Number(len)));
          buf = buf.subarray(sp + 1 + Number(len));
        }
      });
    };
    this.server = this.tls
      ? createTlsServer({ key: this.tls.key, cert: this.tls.cert, ca: this.tls.ca, requestCert: true, rejectUnauthorized: true }, onSocket)
      : createTcpServer(onSocket);
    this.port = await listen(this.server);
  }

  private message(bytes: Buffer): void {
    const text = bytes.toString('utf8');
    this.frames.push(text);
    const m = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\[.*?[^\\]\]) \uFEFF(.*)$/su.exec(text);
    if (!m) {
      this.problems.push(`not an RFC 5424 message: ${text.slice(0, 120)}`);
      return;
    }
    const [, pri, time, host, app, procid, msgid, sd, msg] = m as unknown as string[];
    if (Number(pri) !== 13 * 8 + 6) this.problems.push(`PRI ${pri}: expected facility 13, severity 6`);
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$/.test(time ?? '')) this.problems.push(`TIMESTAMP ${time}`);
    for (const [name, v, max] of [
      ['HOSTNAME', host, 255],
      ['APP-NAME', app, 48],
      ['PROCID', procid, 128],
      ['MSGID', msgid, 32],
    ] as const) {
      if (!v || v.length > max || !/^[!-~]+$/.test(v)) this.problems.push(`${name} "${v}"`);
    }
    const params = parseSd(sd ?? '');
    if (params === null) {
      this.problems.push(`STRUCTURED-DATA ${sd}`);
      return;
    }
    const e = this.entry(JSON.parse(msg ?? ''), 'syslog MSG');
    if (!e) return;
    if (params.get('seq') !== String(e.seq) || params.get('hash') !== e.hash || params.get('prev_hash') !== e.prev_hash) {
      this.problems.push(`structured data does not match entry ${e.seq}`);
    }
    if (params.get('id') !== `countersign-audit-${e.seq}`) this.problems.push(`id ${params.get('id')}`);
    if (msgid !== e.event && msgid !== '-') this.problems.push(`MSGID ${msgid} for event ${e.event}`);
    this.got.push(e);
  }

  async close(): Promise<void> {
    await closeServer(this.server, this.sockets);
  }
}

/** One SD-ELEMENT `[countersign@32473 k="v" …]` with RFC 5424's escapes; null when malformed. */
function parseSd(sd: string): Map<string, string> | null {
  const m = /^\[countersign@32473((?: [a-z_]{1,32}="(?:[^"\\\]]|\\["\\\]])*")*)\]$/.exec(sd);
  if (!m) return null;
  const out = new Map<string, string>();
  for (const p of (m[1] ?? '').matchAll(/ ([a-z_]+)="((?:[^"\\\]]|\\["\\\]])*)"/g))
    out.set(p[1] as string, (p[2] as string).replace(/\\(["\\\]])/g, '$1'));
  return out;
}

/**
 * What a receiver that de-duplicates by id holds: each seq once (every copy of it identical), checked as
 * `audit verify` would: contiguous from 1 to `head`, each linked to the one before and hashing to its hash.
 * Returns how many deliveries were duplicates.
 */
export function verifyReceived(got: readonly WireEntry[], head: number): { duplicates: number } {
  const bySeq = new Map<number, WireEntry>();
  for (const e of got) {
    const seen = bySeq.get(e.seq);
    if (seen && JSON.stringify(seen) !== JSON.stringify(e)) throw new Error(`entry ${e.seq} arrived twice with different contents`);
    bySeq.set(e.seq, e);
  }
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= head; seq++) {
    const e = bySeq.get(seq);
    if (!e) throw new Error(`entry ${seq} never arrived (gap)`);
    const fields = {
      seq,
      ts: e.ts,
      actor_type: e.actor_type,
      actor_id: e.actor_id,
      event: e.event,
      action_id: e.action_id,
      data: canonicalJson(e.data),
    };
    if (e.prev_hash !== prev) throw new Error(`entry ${seq} does not link to entry ${seq - 1}`);
    if (auditEntryHash(prev, fields) !== e.hash) throw new Error(`entry ${seq} does not hash to its hash`);
    prev = e.hash;
  }
  if (bySeq.size !== head) throw new Error(`received ${bySeq.size} distinct entries, expected ${head}`);
  return { duplicates: got.length - bySeq.size };
}

/** A private CA, a server certificate for 127.0.0.1 / localhost and a client certificate, made with openssl. */
export function makeCertificates(dir: string): {
  ca: string;
  serverKey: string;
  serverCert: string;
  clientKey: string;
  clientCert: string;
  paths: Record<string, string>;
} {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Test SIEM CA',
  ]);
  for (const who of ['server', 'client']) {
    run([
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${who}.key`,
      '-out',
      `${who}.csr`,
      '-subj',
      `/CN=${who === 'server' ? 'localhost' : 'countersign'}`,
    ]);
    const ext = join(dir, `${who}.ext`);
    writeFileSync(
      ext,
      who === 'server' ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n',
    );
    run([
      'x509',
      '-req',
      '-in',
      `${who}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${who}.pem`,
      '-days',
      '2',
      '-extfile',
      ext,
    ]);
  }
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return {
    ca: read('ca.pem'),
    serverKey: read('server.key'),
    serverCert: read('server.pem'),
    clientKey: read('client.key'),
    clientCert: read('client.pem'),
    paths: { ca: join(dir, 'ca.pem'), clientKey: join(dir, 'client.key'), clientCert: join(dir, 'client.pem') },
  };
}
