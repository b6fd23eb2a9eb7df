import type { ServerOptions } from 'node:http';
import type { Config } from '../config/schema.js';

/**
 * How long a client may take to send a request, and to keep an idle connection.
 *
 * Node enforces headersTimeout and requestTimeout from a periodic sweep
 * (connectionsCheckingInterval, 30 s by default), so a 10 s limit would really
 * be up to 40 s: the sweep runs at a quarter of the shorter limit instead.
 * requestTimeout ends when the request has been received in full; what the
 * handler then takes (a long-poll, an event stream) is not limited by it.
 */
export function timeoutOptions(server: Config['server']): { requestTimeout: number; keepAliveTimeout: number; http: ServerOptions } {
  const sweep = Math.max(25, Math.floor(Math.min(server.headersTimeoutMs, server.requestTimeoutMs) / 4));
  return {
    // Fastify sets these on the server itself, after creating it (its defaults: off and 72 s).
    requestTimeout: server.requestTimeoutMs,
    keepAliveTimeout: server.keepAliveTimeoutMs,
    http: {
      headersTimeout: server.headersTimeoutMs,
      requestTimeout: server.requestTimeoutMs,
      connectionsCheckingInterval: sweep,
      // Node would answer a missing Host with a bare 400; the onRequest check answers it in the envelope.
      requireHostHeader: false,
    },
  };
}
