import { connect } from 'node:net';

/** What a raw connection received before the server closed it (or the client gave up). */
export interface RawExchange {
  /** Everything received, as text. */
  text: string;
  /** The server closed the connection (rather than the client giving up after `giveUpMs`). */
  closedByServer: boolean;
}

/**
 * Opens a TCP connection to a listening gateway, writes `chunks` in order (a number is a pause in ms),
 * and collects what comes back until the server closes the connection, or `giveUpMs` passes. For what
 * Fastify's inject cannot express: stalled bodies and headers, malformed requests, idle keep-alives.
 */
export function rawExchange(url: string, chunks: (string | Buffer | number)[], giveUpMs = 10_000): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname === 'localhost' ? '127.0.0.1' : hostname, port: Number(port) });
    const received: Buffer[] = [];
    let settled = false;
    const finish = (closedByServer: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ text: Buffer.concat(received).toString('utf8'), closedByServer });
    };
    const giveUp = setTimeout(() => finish(false), giveUpMs);
    socket.on('data', (d) => received.push(d));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? finish(true) : reject(e)));
    socket.once('connect', async () => {
      for (const c of chunks) {
        if (typeof c === 'number') await new Promise((r) => setTimeout(r, c));
        else if (!socket.destroyed) socket.write(c);
      }
    });
  });
}

/** The status code and the parsed JSON body of the first response in `text`. */
// biome-ignore lint/suspicious/noExplicitAny: tests read bodies of any shape, as helpers' call() does
export function firstResponse(text: string): { status: number; headers: string; body: any } {
  const m = /^HTTP\/1\.1 (\d{3}) [^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(text);
  if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(text.slice(0, 200))}`);
  const headers = m[2] ?? '';
  const length = /^content-length: *(\d+)$/im.exec(headers);
  const raw = length ? (m[3] ?? '').slice(0, Number(length[1])) : (m[3] ?? '');
  let body: unknown = raw;
  try {
    body = JSON.parse(raw);
  } catch {
    // not JSON
  }
  return { status: Number(m[1]), headers, body };
}
