import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { NotificationsConfigSchema, resolveNotifications } from '../src/config/notify-schema.js';
import type { Config } from '../src/config/schema.js';

export interface ReceivedMail {
  to: string[];
  raw: string;
  /** The Subject header as sent (unfolded; the gateway's subjects are ASCII once revealed). */
  subject: string;
  /** The decoded text/plain and text/html parts. */
  text: string;
  html: string;
}

export interface TestSmtp {
  port: number;
  messages: ReceivedMail[];
  /** Answer RCPT TO for these recipients with this SMTP code (4xx or 5xx) until cleared. */
  refuse(recipient: string, code: number | null): void;
  close(): Promise<void>;
}

/** A real SMTP server (smtp-server) on a loopback port that keeps every message it accepts. */
export async function startSmtp(): Promise<TestSmtp> {
  const messages: ReceivedMail[] = [];
  const refusals = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, cb) {
      const code = refusals.get(address.address.toLowerCase());
      if (code === undefined) return cb();
      const e = new Error(code >= 500 ? 'mailbox unavailable' : 'try again later') as Error & { responseCode: number };
      e.responseCode = code;
      cb(e);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        messages.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          subject: (/^Subject: (.*(?:\r?\n[ \t].*)*)/im.exec(raw)?.[1] ?? '').replace(/\r?\n[ \t]/g, ' '),
          text: part(raw, 'text/plain'),
          html: part(raw, 'text/html'),
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    messages,
    refuse(recipient, code) {
      if (code === null) refusals.delete(recipient.toLowerCase());
      else refusals.set(recipient.toLowerCase(), code);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The decoded body of the first MIME part of this type (quoted-printable or base64, as nodemailer wrote it). */
function part(raw: string, type: string): string {
  const at = raw.search(new RegExp(`Content-Type: ${type}`, 'i'));
  if (at < 0) return '';
  const rest = raw.slice(at);
  const headerEnd = rest.indexOf('\r\n\r\n');
  const headers = rest.slice(0, headerEnd);
  let body = rest.slice(headerEnd + 4);
  const boundary = body.search(/\r\n--/);
  if (boundary >= 0) body = body.slice(0, boundary);
  const encoding = /Content-Transfer-Encoding:\s*([\w-]+)/i.exec(headers)?.[1]?.toLowerCase() ?? '7bit';
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    // Soft line breaks out, then each =XX byte as %XX (literal % escaped first) for one UTF-8 decode.
    const escaped = body
      .replace(/=\r\n/g, '')
      .replace(/%/g, '%25')
      .replace(/=([0-9A-F]{2})/gi, '%$1');
    return decodeURIComponent(escaped);
  }
  return body;
}

export const PUBLIC_URL = 'https://cs.example';

/** A config transformer: email notifications to this SMTP server, the public URL set, and `email` settings merged in. */
export function withEmail(smtp: TestSmtp, email: Record<string, unknown> = {}, more: Partial<Config> = {}): (c: Config) => Config {
  const file = NotificationsConfigSchema.parse({ email: { enabled: true, host: '127.0.0.1', port: smtp.port, timeout: 5, ...email } });
  return (c) => ({
    ...c,
    server: { ...c.server, publicUrl: PUBLIC_URL },
    notifications: resolveNotifications(file, {}, PUBLIC_URL),
    ...more,
  });
}

/** Every URL in a message's text part. */
export function linksIn(mail: ReceivedMail): string[] {
  return [...new Set([...mail.text.matchAll(/https?:\/\/[^\s<>"]+/g)].map((m) => m[0]))];
}
