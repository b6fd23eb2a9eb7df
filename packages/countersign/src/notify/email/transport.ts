import nodemailer from 'nodemailer';
import type { NotificationsConfig } from '../../config/notify-schema.js';

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface EmailSender {
  /** Sends one message; resolves with the server-assigned Message-ID, rejects on any 4xx/5xx or network error. */
  send(message: EmailMessage): Promise<string>;
}

/** SMTP through nodemailer, one connection per message (no pool to leak between gateways in one process). */
export function smtpSender(config: NotificationsConfig['email']): EmailSender {
  const transport = nodemailer.createTransport({
    host: config.host,
    port: config.port,
    secure: config.secure,
    ...(config.user !== undefined && config.password !== undefined ? { auth: { user: config.user, pass: config.password } } : {}),
    connectionTimeout: config.timeout,
    greetingTimeout: config.timeout,
    socketTimeout: config.timeout,
  });
  return {
    async send(m) {
      const info = await transport.sendMail({ from: config.from, to: m.to, subject: m.subject, text: m.text, html: m.html });
      if (info.rejected.length > 0) throw new Error(`the server refused the recipient ${m.to}`);
      return info.messageId;
    },
  };
}
