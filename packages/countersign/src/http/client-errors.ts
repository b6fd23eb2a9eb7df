import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.js';
import { formatDuration } from '../lib/duration.js';
import { CsError } from '../lib/errors.js';
import { sendError } from './errors.js';

// Every response >= 400 carries {"error":{"code","message"}}, including the ones Node and Fastify would
// otherwise write themselves: parser errors and time-outs (before any request object exists), bad URLs,
// a missing Host, an unmet Expect, and requests that arrive while the server is closing. The status keeps
// its HTTP meaning (408, 414, 431, 417); the code is one of the fixed set, as every other error's.

interface ParserError extends Error {
  code?: string;
  reason?: string;
}

/** What the client gets for an error the HTTP parser raised, or for not sending its request in time. */
export function parserErrorResponse(err: ParserError, server: Config['server']): { status: number; error: CsError } {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        error: new CsError(
          'invalid_request',
          `the request was not received in time (headers within ${formatDuration(server.headersTimeoutMs)}, the whole request within ${formatDuration(server.requestTimeoutMs)})`,
        ),
      };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, error: new CsError('payload_too_large', 'the request line and headers are larger than the server accepts') };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, error: new CsError('payload_too_large', 'the chunk extensions are larger than the server accepts') };
    default:
      return {
        status: 400,
        error: new CsError('invalid_request', `malformed HTTP request${err.reason ? `: ${err.reason}` : ''}`, {
          ...(err.code ? { details: { parser: err.code } } : {}),
        }),
      };
  }
}

/** A complete HTTP/1.1 response carrying the envelope, for a socket that has no request object to answer through. */
export function rawErrorResponse(status: number, error: CsError): string {
  const body = JSON.stringify({ error: error.toJSON() });
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/** Fastify's clientErrorHandler: answers in the envelope, unless a response has already begun on the socket. */
export function clientErrorHandler(server: Config['server']) {
  return function onClientError(this: FastifyInstance, err: ParserError, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const { status, error } = parserErrorResponse(err, server);
    this.log.debug({ err, status }, 'client error');
    // Writing into a response already under way would corrupt it for the client: then only close.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(rawErrorResponse(status, error), () => socket.destroy());
  };
}

/** Fastify's frameworkErrors: errors raised while routing, before any route's error handler applies. */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  switch (err.code) {
    case 'FST_ERR_MAX_PARAM_LENGTH':
      void sendError(request, reply, new CsError('invalid_request', 'a path parameter is longer than any id this API uses'), 414);
      return;
    case 'FST_ERR_BAD_URL':
      void sendError(request, reply, new CsError('invalid_request', 'the URL is not valid (bad percent-encoding)'));
      return;
    default:
      void sendError(request, reply, err);
  }
}

/** What Node and Fastify would answer with a bare body, answered in the envelope instead. */
export function envelopeEdgeCases(app: FastifyInstance): void {
  // Node answers an Expect it does not know with an empty 417 unless someone listens.
  app.server.on('checkExpectation', (req, res) => {
    const body = JSON.stringify({
      error: new CsError('invalid_request', `Expect: ${String(req.headers.expect)} is not supported (only 100-continue)`).toJSON(),
    });
    res.writeHead(417, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    });
    res.end(body);
  });
  // Every request passes here: a callback hook, so the common case allocates no promise.
  app.addHook('onRequest', (request, _reply, done) => {
    // Requests on a kept-alive connection during shutdown (Fastify's own 503 here has no envelope).
    if (app.closing.signal.aborted)
      return done(new CsError('unavailable', 'the gateway is shutting down; retry on another one or shortly'));
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      return done(new CsError('invalid_request', 'an HTTP/1.1 request must send a Host header'));
    }
    done();
  });
}
