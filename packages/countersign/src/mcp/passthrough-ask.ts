import type { Client, RequestOptions } from '@modelcontextprotocol/client';
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { Upstream } from './upstream.js';

/** Long enough for a slow remote server, short enough that a hung one does not hang the host. */
export const PASSTHROUGH_TIMEOUT_MS = 30_000;

/** Calls one upstream with the pass-through time-out and the downstream request's cancellation. */
export type Ask = <T>(u: Upstream, what: string, fn: (c: Client, opts: RequestOptions) => Promise<T>, signal?: AbortSignal) => Promise<T>;

/** An Ask whose failures are all MCP errors (upstreamError), so a handler can simply let them through. */
export function askWithin(timeoutMs: number): Ask {
  return async (u, what, fn, signal) => {
    try {
      return await fn(u.sdk, { timeout: timeoutMs, ...(signal ? { signal } : {}) });
    } catch (e) {
      throw upstreamError(e, u.name, what);
    }
  };
}

/** The server has no such method (a resource server without templates, say): an empty list, not a failure. */
export function lacksMethod(e: unknown): boolean {
  return e instanceof ProtocolError && e.code === ProtocolErrorCode.MethodNotFound;
}

const SDK_MESSAGE_PREFIX = /^MCP error -?\d+: /;

/**
 * An upstream failure as the MCP error the downstream client gets. The upstream's own JSON-RPC
 * errors keep their code and data (a missing resource stays "invalid params" with its URI); time-outs,
 * lost connections and anything else are internal errors. Each names the server, since the
 * client sees one server where there are several.
 */
export function upstreamError(e: unknown, server: string, what: string): ProtocolError {
  const message = ((e as Error)?.message ?? String(e)).replace(SDK_MESSAGE_PREFIX, '');
  if (e instanceof ProtocolError) return new ProtocolError(e.code, `${message} (upstream server "${server}")`, e.data);
  return new ProtocolError(ProtocolErrorCode.InternalError, `upstream server "${server}" failed on ${what}: ${message}`);
}
