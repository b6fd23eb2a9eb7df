import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/**
 * The SDK's HTTP serving speaks web-standard Request/Response; `node:http` does not. These two
 * functions are the whole adapter. The one thing that matters beyond copying bytes: the
 * Request's signal aborts when the client goes away before the answer is complete, because on
 * Streamable HTTP a dropped request stream *is* the cancellation of the call.
 */
export function toWebRequest(req: IncomingMessage, res: ServerResponse): Request {
  const aborted = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) aborted.abort();
  });
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const [name, value] = [req.rawHeaders[i], req.rawHeaders[i + 1]];
    if (name !== undefined && value !== undefined) headers.append(name, value);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  // The Host header is checked separately (DNS-rebinding protection); the URL only needs the path.
  const url = new URL(req.url ?? '/', 'http://localhost');
  const init: RequestInit & { duplex?: 'half' } = { method: req.method ?? 'GET', headers, signal: aborted.signal };
  if (hasBody) {
    init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  return new Request(url, init);
}

/** Writes a web Response to a Node response, streaming its body (SSE stays open until it ends). */
export async function sendWebResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  // Event streams must reach the client as they are written, not when a buffer fills.
  res.flushHeaders();
  const reader = response.body.getReader();
  res.on('close', () => void reader.cancel().catch(() => undefined));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await drained(res);
    }
  } catch {
    // The client went away mid-stream; nothing left to tell it.
  } finally {
    res.end();
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
