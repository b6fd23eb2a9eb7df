import { createServer as createHttpServer, type Server as HttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { z } from 'zod';
import { closeServer, listen, Receiver, readBody } from './siem-receivers.js';

// The HTTP SIEM stand-ins: a Splunk HTTP Event Collector and an OTLP/HTTP collector, each as strict as the
// real one about what it accepts (see Receiver in siem-receivers.ts for what they record).

/** Splits HEC's batch format: JSON objects one after another (whitespace between them allowed, nothing else). */
export function concatenatedJson(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
    } else if (depth === 0 && !/\s/.test(c ?? '')) throw new Error(`unexpected "${c}" between events`);
  }
  if (depth !== 0) throw new Error('unterminated event object');
  return out;
}

const HecEvent = z.strictObject({
  time: z.number(),
  host: z.string().min(1),
  source: z.string(),
  sourcetype: z.string(),
  index: z.string().optional(),
  event: z.unknown(),
  fields: z.record(z.string(), z.string()),
});

abstract class HttpReceiver extends Receiver {
  protected server: HttpServer | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createHttpServer((req, res) => {
      readBody(req).then(
        (body) => this.request(req, body, res),
        () => undefined,
      );
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.port = await listen(this.server);
  }

  protected abstract request(req: IncomingMessage, body: string, res: ServerResponse): void;

  async close(): Promise<void> {
    await closeServer(this.server, this.sockets);
  }
}

/** A Splunk HTTP Event Collector: token, path, batch format, event shape; indexer acknowledgement per channel. */
export class HecReceiver extends HttpReceiver {
  private nextAck = 0;
  /** The ackIds the sender polled for (each is acknowledged when asked). */
  readonly acksAsked: number[] = [];
  /** How many ackIds were handed out (one per accepted batch). */
  get acksIssued(): number {
    return this.nextAck;
  }

  constructor(
    private readonly token: string,
    private readonly ack: boolean,
  ) {
    super();
  }

  protected request(req: IncomingMessage, body: string, res: ServerResponse): void {
    const json = (status: number, v: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
    };
    if (req.headers.authorization !== `Splunk ${this.token}`) {
      this.problems.push(`authorization ${req.headers.authorization}`);
      json(401, { text: 'Invalid authorization', code: 3 });
      return;
    }
    const channel = req.headers['x-splunk-request-channel'];
    if (this.ack && typeof channel !== 'string') this.problems.push('no X-Splunk-Request-Channel with acks on');
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST' && url.pathname === '/services/collector/ack') {
      if (url.searchParams.get('channel') !== channel) this.problems.push('ack polled on another channel');
      const ids = (JSON.parse(body) as { acks: number[] }).acks;
      this.acksAsked.push(...ids);
      json(200, { acks: Object.fromEntries(ids.map((id) => [String(id), id < this.nextAck])) });
      return;
    }
    if (req.method !== 'POST' || url.pathname !== '/services/collector/event') {
      this.problems.push(`${req.method} ${req.url}`);
      json(404, { text: 'not found', code: 404 });
      return;
    }
    const answer = this.nextAnswer();
    if (answer === 'down') {
      json(503, { text: 'Server is busy', code: 9 });
      return;
    }
    let events: unknown[];
    try {
      events = concatenatedJson(body);
    } catch (e) {
      this.problems.push(`batch: ${(e as Error).message}`);
      json(400, { text: 'Invalid data format', code: 6 });
      return;
    }
    const batch: number[] = [];
    this.batches.push(batch);
    for (const raw of events) {
      const ev = HecEvent.safeParse(raw);
      if (!ev.success) {
        this.problems.push(`HEC event: ${ev.error.message}`);
        continue;
      }
      const e = this.entry(ev.data.event, 'HEC event');
      if (!e) continue;
      const f = ev.data.fields;
      if (f.seq !== String(e.seq) || f.hash !== e.hash || f.prev_hash !== e.prev_hash || f.id !== `countersign-audit-${e.seq}`) {
        this.problems.push(`fields do not match entry ${e.seq}`);
      }
      if (ev.data.time !== e.ts / 1000) this.problems.push(`time ${ev.data.time} for ts ${e.ts}`);
      this.got.push(e);
      batch.push(e.seq);
    }
    if (answer === 'hang') {
      this.held(res);
      return;
    }
    json(200, this.ack ? { text: 'Success', code: 0, ackId: this.nextAck++ } : { text: 'Success', code: 0 });
  }
}

const AnyValue = z.union([z.strictObject({ stringValue: z.string() }), z.strictObject({ intValue: z.string().regex(/^-?\d+$/) })]);
const KeyValue = z.strictObject({ key: z.string().min(1), value: AnyValue });
const ExportLogsServiceRequest = z.strictObject({
  resourceLogs: z.array(
    z.strictObject({
      resource: z.strictObject({ attributes: z.array(KeyValue) }),
      scopeLogs: z.array(
        z.strictObject({
          scope: z.strictObject({ name: z.string(), version: z.string() }),
          logRecords: z.array(
            z.strictObject({
              timeUnixNano: z.string().regex(/^\d+$/),
              observedTimeUnixNano: z.string().regex(/^\d+$/),
              severityNumber: z.number().int().min(1).max(24),
              severityText: z.string(),
              body: z.strictObject({ stringValue: z.string() }),
              attributes: z.array(KeyValue),
            }),
          ),
        }),
      ),
    }),
  ),
});

/** An OTLP/HTTP collector's /v1/logs, JSON encoding: ExportLogsServiceRequest in, ExportLogsServiceResponse out. */
export class OtlpReceiver extends HttpReceiver {
  constructor(private readonly headers: Record<string, string> = {}) {
    super();
  }

  protected request(req: IncomingMessage, body: string, res: ServerResponse): void {
    const json = (status: number, v: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
    };
    if (req.method !== 'POST' || req.url !== '/v1/logs') this.problems.push(`${req.method} ${req.url}`);
    if (req.headers['content-type'] !== 'application/json') this.problems.push(`content-type ${req.headers['content-type']}`);
    for (const [k, v] of Object.entries(this.headers)) if (req.headers[k] !== v) this.problems.push(`header ${k}: ${req.headers[k]}`);
    const answer = this.nextAnswer();
    if (answer === 'down') {
      json(503, { code: 14, message: 'unavailable' });
      return;
    }
    const parsed = ExportLogsServiceRequest.safeParse(JSON.parse(body));
    if (!parsed.success) {
      this.problems.push(`ExportLogsServiceRequest: ${parsed.error.message}`);
      json(400, { code: 3, message: 'bad request' });
      return;
    }
    const batch: number[] = [];
    this.batches.push(batch);
    for (const rl of parsed.data.resourceLogs) {
      const service = rl.resource.attributes.find((a) => a.key === 'service.name');
      if (!service) this.problems.push('resource without service.name');
      for (const sl of rl.scopeLogs) {
        for (const r of sl.logRecords) {
          const e = this.entry(JSON.parse(r.body.stringValue), 'OTLP body');
          if (!e) continue;
          const attr = new Map(r.attributes.map((a) => [a.key, 'stringValue' in a.value ? a.value.stringValue : a.value.intValue]));
          if (attr.get('countersign.audit.seq') !== String(e.seq) || attr.get('countersign.audit.hash') !== e.hash) {
            this.problems.push(`attributes do not match entry ${e.seq}`);
          }
          if (r.timeUnixNano !== `${BigInt(e.ts) * 1_000_000n}`) this.problems.push(`timeUnixNano ${r.timeUnixNano} for ts ${e.ts}`);
          this.got.push(e);
          batch.push(e.seq);
        }
      }
    }
    if (answer === 'hang') {
      this.held(res);
      return;
    }
    json(200, {});
  }
}
