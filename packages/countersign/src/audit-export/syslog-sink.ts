import { once } from 'node:events';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { SyslogSinkConfig } from '../config/audit-export-schema.js';
import { formatSyslog, octetCounted, type SyslogFormat } from './syslog-frame.js';
import type { ExportEntry, Sink } from './types.js';

/**
 * Syslog over TCP (RFC 6587, octet counting) or TLS (RFC 5425, which frames the same way). One connection
 * is kept open and reopened after any error. A batch counts as sent once its bytes are written to the
 * socket: syslog has no acknowledgement, so entries written just before the receiver dies can be lost in
 * the receiver (docs/operations.md says so, and points at HEC with acks or OTLP where that matters).
 */
export function syslogSink(cfg: SyslogSinkConfig): Sink {
  const format: SyslogFormat = { facility: cfg.facility, hostname: cfg.hostname, appName: cfg.app_name, sdId: cfg.sd_id };
  // SNI carries host names only (RFC 6066); an address is still checked against the certificate's IP SANs.
  const sni = cfg.tls?.serverName ?? (isIP(cfg.host) ? undefined : cfg.host);
  let socket: Socket | undefined;
  let broken: Error | undefined;

  async function open(signal: AbortSignal): Promise<Socket> {
    if (socket && !broken && !socket.destroyed && socket.writable) return socket;
    socket?.destroy();
    broken = undefined;
    const s =
      cfg.tls === null
        ? netConnect({ host: cfg.host, port: cfg.port })
        : tlsConnect({
            host: cfg.host,
            port: cfg.port,
            ...(sni === undefined ? {} : { servername: sni }),
            ...(cfg.tls.ca === undefined ? {} : { ca: cfg.tls.ca }),
            ...(cfg.tls.cert === undefined ? {} : { cert: cfg.tls.cert, key: cfg.tls.key }),
          });
    s.setNoDelay(true);
    s.setKeepAlive(true, 30_000);
    // A receiver that closes or fails marks the connection broken: the next batch reconnects.
    s.on('error', (err) => (broken = err));
    s.on('close', () => (broken ??= new Error('the syslog receiver closed the connection')));
    s.on('end', () => {
      broken ??= new Error('the syslog receiver ended the connection');
      s.destroy();
    });
    s.on('data', () => undefined);
    socket = s;
    await once(s, cfg.tls === null ? 'connect' : 'secureConnect', { signal });
    return s;
  }

  return {
    name: cfg.name,
    async send(entries: readonly ExportEntry[], signal: AbortSignal): Promise<void> {
      try {
        const s = await open(signal);
        const frames = Buffer.concat(entries.map((e) => octetCounted(formatSyslog(e, format))));
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
          signal.addEventListener('abort', onAbort, { once: true });
          s.write(frames, (err) => {
            signal.removeEventListener('abort', onAbort);
            if (err) reject(err);
            else if (broken) reject(broken);
            else resolve();
          });
        });
      } catch (e) {
        socket?.destroy();
        socket = undefined;
        throw e;
      }
    },
    async close(): Promise<void> {
      const s = socket;
      socket = undefined;
      if (!s || s.destroyed) return;
      s.end();
      await Promise.race([once(s, 'close'), new Promise((r) => setTimeout(r, 1000).unref())]).catch(() => undefined);
      s.destroy();
    },
  };
}
