import type { ServerResponse } from 'node:http';

/** What an event stream sends when it has nothing to say: an SSE comment, which clients ignore. */
export const KEEP_ALIVE = ': keep-alive\n\n';

/** The comment as one chunk of a chunked body (size in hex, CRLF, data, CRLF), built once for every stream. */
const KEEP_ALIVE_CHUNK = Buffer.from(`${Buffer.byteLength(KEEP_ALIVE).toString(16)}\r\n${KEEP_ALIVE}\r\n`, 'latin1');

/**
 * Writes the keep-alive comment on an open event stream. With 10,000 streams open these are most of what an
 * idle gateway does, and `res.write` costs Node about 1.5 kB of heap per call (it corks the socket, schedules
 * the uncork, frames the chunk as three more writes and gathers them into one), 1 MB/s in all; writing the
 * one pre-framed chunk straight to the socket costs about 0.3 kB (bench/keep-alive-writes.ts,
 * bench/README.md). The socket is the response's own once its headers are out; anything still queued
 * (a response that has not reached its socket, a slow reader's backlog) or a body that is not chunked
 * (an HTTP/1.0 client) takes `res.write`, so bytes never overtake each other.
 */
export function writeKeepAlive(res: ServerResponse): void {
  const socket = res.socket;
  const chunked = (res as { chunkedEncoding?: boolean }).chunkedEncoding === true;
  if (chunked && socket?.writable && res.headersSent && !res.writableEnded && res.writableLength === 0) socket.write(KEEP_ALIVE_CHUNK);
  else res.write(KEEP_ALIVE);
}
