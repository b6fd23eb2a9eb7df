import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface Reply {
  status: number;
  body: string;
  /** performance.now() when the last byte arrived. */
  at: number;
}

/**
 * One HTTP request with node:http and the bench's own agent (so the benchmarks control connection reuse),
 * the whole body read. `timeoutMs` (none by default: a parked long-poll may wait its full time) destroys a
 * request that hears nothing for that long.
 */
export function request(
  agent: http.Agent | false,
  base: URL,
  method: 'GET' | 'POST',
  path: string,
  key?: string,
  body?: unknown,
  timeoutMs?: number,
): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method,
        path,
        headers: {
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        },
        ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), at: performance.now() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** One server-sent message as its fields (`retry`, `id`, `event`, `data`; the first of each), or none for a comment. */
export type SseFrame = Partial<Record<'retry' | 'id' | 'event' | 'data', string>>;

/** Reads an event stream's body and calls `onFrame` for each whole message, in order. */
export function onSseFrames(res: http.IncomingMessage, onFrame: (frame: SseFrame) => void): void {
  res.setEncoding('utf8');
  let buf = '';
  res.on('data', (chunk: string) => {
    buf += chunk;
    for (let end = buf.indexOf('\n\n'); end !== -1; end = buf.indexOf('\n\n')) {
      const frame: SseFrame = {};
      for (const line of buf.slice(0, end).split('\n')) {
        const m = /^(retry|id|event|data): ?(.*)$/.exec(line);
        const field = m?.[1] as keyof SseFrame | undefined;
        if (field && frame[field] === undefined) frame[field] = m?.[2];
      }
      buf = buf.slice(end + 2);
      onFrame(frame);
    }
  });
}
