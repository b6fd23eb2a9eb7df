import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The parsed body, as `Webhook.verify` returned it (null when it refused). */
  payload: { type: string; timestamp: string; data: { event_id?: number; action_id?: string; action?: { id: string } } } | null;
  /** Which of the path's secrets verified it (indexes into `secrets`); empty when none did. */
  verifiedWith: number[];
  /** The status the receiver answered. */
  status: number;
}

interface Route {
  secrets: string[];
  /** Statuses to answer, first to last; 200 once they run out. */
  answers: number[];
  /** Sent as Retry-After with a 429 or 503 answer when set (seconds, or an HTTP date). */
  retryAfter?: string;
  got: Received[];
}

/**
 * A real HTTP receiver standing in for a customer's webhook endpoint: it checks every request with
 * standardwebhooks' `Webhook.verify` against each secret it holds for the path, records it, and answers
 * the status queued for that path.
 */
export class WebhookReceiver {
  private readonly routes = new Map<string, Route>();
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        body += c;
      });
      req.on('end', () => {
        const path = req.url ?? '/';
        const route = this.route(path);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
        let payload: Received['payload'] = null;
        const verifiedWith: number[] = [];
        route.secrets.forEach((s, i) => {
          try {
            payload = new Webhook(s).verify(body, headers) as Received['payload'];
            verifiedWith.push(i);
          } catch {
            // not signed with this one
          }
        });
        const status = route.answers.shift() ?? 200;
        route.got.push({ path, headers, body, payload, verifiedWith, status });
        const throttled = (status === 429 || status === 503) && route.retryAfter !== undefined;
        res.writeHead(status, throttled ? { 'retry-after': route.retryAfter as string } : {}).end();
      });
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  route(path: string): Route {
    let r = this.routes.get(path);
    if (!r) {
      r = { secrets: [], answers: [], got: [] };
      this.routes.set(path, r);
    }
    return r;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}
