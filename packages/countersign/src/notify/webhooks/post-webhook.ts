import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { rootCertificates } from 'node:tls';
import type { ResolvedAddress } from './destination.js';

export interface PostResult {
  status: number | null;
  durationMs: number;
  error: string | null;
  /** The receiver's Retry-After header, if it sent one (a 429 or 503 asking to be left alone a while). */
  retryAfter: string | null;
}

/** The most of a receiver's answer read (and thrown away): enough to finish the exchange, no more. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs one webhook to `url`, connected to `pinned` only: the socket's `lookup` answers with the address
 * the guard checked, whatever DNS would say now, while the Host header and TLS server name (SNI, and the
 * certificate check) stay the URL's host. A fresh connection per request (no agent pool), so a socket
 * opened for another address is never reused. Redirects are not followed (node's client never does): a
 * 3xx is just a failed delivery. Real timers: this talks to the outside world.
 */
export function postWebhook(
  url: URL,
  pinned: ResolvedAddress,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  /** Extra trusted CA certificates (PEM), added to Node's roots: receivers with a private CA. */
  ca?: string,
): Promise<PostResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const lookup: LookupFunction = (_host, options, callback) => {
    if (options.all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const options = {
    method: 'POST',
    agent: false as const,
    lookup,
    headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    ...(url.protocol === 'https:' && isIP(host) === 0 ? { servername: host } : {}),
    // `ca` replaces the trust store when given, so the public roots are kept beside the extra one. The
    // certificate is still checked against the URL's host name (never the pinned address).
    ...(url.protocol === 'https:' && ca !== undefined ? { ca: [...rootCertificates, ca] } : {}),
  };
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: Omit<PostResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, durationMs: elapsed() });
    };
    const onResponse = (res: IncomingMessage) => {
      // The status is the answer; the body is drained (up to a cap) only to end the exchange cleanly.
      const retryAfter = res.headers['retry-after'];
      finish({ status: res.statusCode ?? null, error: null, retryAfter: typeof retryAfter === 'string' ? retryAfter : null });
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_RESPONSE_BYTES) res.destroy();
      });
      res.on('error', () => undefined);
    };
    const req = url.protocol === 'https:' ? httpsRequest(url, options, onResponse) : httpRequest(url, options, onResponse);
    const timer = setTimeout(() => {
      finish({ status: null, error: `no answer within ${timeoutMs} ms`, retryAfter: null });
      req.destroy();
    }, timeoutMs);
    req.on('error', (e) => finish({ status: null, error: e.message || e.name, retryAfter: null }));
    req.end(body);
  });
}
