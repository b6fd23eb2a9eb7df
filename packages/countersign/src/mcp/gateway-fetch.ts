import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';

/**
 * The `fetch` the proxy hands its gateway client (the SDK's `fetch` option): node:http over
 * kept-alive connections. Every allowed tool call makes two gateway requests (the proposal on its
 * path, the result report after it), and Node's built-in fetch spends several times the CPU of a
 * plain `http.request` on each (WHATWG streams, header validation, the fetch algorithm's steps):
 * measured by bench/mcp-proxy.ts, it was the largest part of what the proxy adds to a call.
 *
 * It covers what the SDK sends: a method, headers, a string or byte body and a signal. A body it
 * does not know (a stream, form data) goes to the platform's fetch instead. An event stream's
 * body is passed on as it arrives; any other body is read whole, then answered as a `Response`.
 * It asks for no compression (no Accept-Encoding), so bodies arrive as sent, and follows no
 * redirect: a gateway URL that redirects comes back as that status, which the SDK reports.
 */
export interface GatewayFetch {
  fetch: typeof fetch;
  /** Closes the idle kept-alive connections (the proxy is stopping). */
  close(): void;
}

export function createGatewayFetch(): GatewayFetch {
  const agents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
  };
  const gatewayFetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const body = init.body;
    const url = typeof input === 'string' ? new URL(input) : input instanceof URL ? input : undefined;
    const agent = url && (url.protocol === 'http:' || url.protocol === 'https:') ? agents[url.protocol] : undefined;
    if (!url || !agent || !(body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array)) {
      return globalThis.fetch(input, init);
    }
    return send(url, agent, init, body ?? undefined, true);
  };
  return {
    fetch: gatewayFetch as typeof fetch,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

function send(url: URL, agent: http.Agent, init: RequestInit, body: string | Uint8Array | undefined, mayRetry: boolean): Promise<Response> {
  const headers = requestHeaders(init.headers);
  if (body !== undefined) headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
  const request = url.protocol === 'https:' ? https.request : http.request;
  return new Promise<Response>((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers, agent, ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
      const status = res.statusCode ?? 502;
      const responseHeaders = headerPairs(res.rawHeaders);
      const init = { status, statusText: res.statusMessage ?? '', headers: responseHeaders };
      if (NULL_BODY.has(status)) {
        res.resume();
        resolve(new Response(null, init));
      } else if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        resolve(new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, init));
      } else {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(new WholeResponse(Buffer.concat(chunks), init) as unknown as Response));
        res.on('error', reject);
      }
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      // A kept-alive connection the gateway closed just as it was reused: sent once more on a fresh
      // one, as Node's documentation advises. Should the first have reached the gateway after all,
      // the second changes nothing: a proposal carries its Idempotency-Key and a receipt redeems once.
      if (mayRetry && req.reusedSocket && e.code === 'ECONNRESET' && !init.signal?.aborted) {
        resolve(send(url, agent, init, body, false));
      } else reject(e);
    });
    req.end(body);
  });
}

/**
 * The request's headers as node:http takes them. The SDK passes a plain object of lower-case names,
 * copied as it is; anything else (a `Headers`, pairs) goes through `Headers`, which normalises it.
 */
function requestHeaders(given: RequestInit['headers']): Record<string, string> {
  const headers: Record<string, string> = {};
  if (given === undefined || given === null) return headers;
  if (Object.getPrototypeOf(given) === Object.prototype) {
    for (const [name, value] of Object.entries(given as Record<string, string>)) headers[name.toLowerCase()] = String(value);
    return headers;
  }
  new Headers(given).forEach((value, name) => {
    headers[name] = value;
  });
  return headers;
}

/**
 * A response whose body has been read whole, answered the way the SDK reads one: `ok`, `status`, `headers`,
 * `text()`, `json()`. Building a platform `Response` over the bytes and reading it back with `text()` goes
 * through a WHATWG stream and cost about 45 times decoding the bytes directly (measured: 268 µs against 6 µs
 * for a proposal's 2 KiB answer, on a loaded machine), on every gateway request, the proposal on the call's
 * path included. The rest of what a `Response` offers to read (`body`, `arrayBuffer()`, `blob()`, `clone()`…) is
 * the platform's, made on first use from the same bytes. Like a `Response`, the body reads once.
 */
class WholeResponse {
  readonly status: number;
  readonly statusText: string;
  private readonly pairs: [string, string][];
  private headersMade: Headers | undefined;
  private platform: Response | undefined;
  private read = false;

  constructor(
    private readonly bytes: Buffer,
    init: { status: number; statusText: string; headers: [string, string][] },
  ) {
    this.status = init.status;
    this.statusText = init.statusText;
    this.pairs = init.headers;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status <= 299;
  }

  get headers(): Headers {
    this.headersMade ??= new Headers(this.pairs);
    return this.headersMade;
  }

  get bodyUsed(): boolean {
    return this.read || (this.platform?.bodyUsed ?? false);
  }

  async text(): Promise<string> {
    if (this.platform) return this.platform.text();
    if (this.read) throw new TypeError('Body is unusable: Body has already been read');
    this.read = true;
    return this.bytes.toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.asPlatform().body;
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.asPlatform().arrayBuffer();
  }

  blob(): Promise<Blob> {
    return this.asPlatform().blob();
  }

  formData(): Promise<FormData> {
    return this.asPlatform().formData();
  }

  clone(): Response {
    return this.asPlatform().clone();
  }

  /** The platform's `Response` over the same bytes, made when a member beyond the SDK's is used. */
  private asPlatform(): Response {
    if (this.read) throw new TypeError('Body is unusable: Body has already been read');
    this.platform ??= new Response(this.bytes, { status: this.status, statusText: this.statusText, headers: this.pairs });
    return this.platform;
  }
}

/** Statuses whose response has no body (a `Response` refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

function headerPairs(raw: string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i] as string, raw[i + 1] as string]);
  return pairs;
}
