import type { NotificationsConfig } from '../../config/notify-schema.js';

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** The Message-ID of the first email about the same action to the same recipient: this one joins its thread. */
  inReplyTo?: string;
}

export interface EmailSender {
  /** Sends one message; resolves with the server-assigned Message-ID, rejects on any 4xx/5xx or network error. */
  send(message: EmailMessage): Promise<string>;
}

/**
 * SMTP through nodemailer, one connection per message (no pool to leak between gateways in one process).
 * nodemailer is imported by the first message, so a gateway that sends no email never loads it.
 */
export function smtpSender(config: NotificationsConfig['email']): EmailSender {
  const open = async () => {
    const { default: nodemailer } = await import('nodemailer');
    return nodemailer.createTransport({
      host: config.host,
      port: config.port,
      secure: config.secure,
      ...(config.user !== undefined && config.password !== undefined ? { auth: { user: config.user, pass: config.password } } : {}),
      connectionTimeout: config.timeout,
      greetingTimeout: config.timeout,
      socketTimeout: config.timeout,
    });
  };
  let transport: ReturnType<typeof open> | undefined;
  return {
    async send(m) {
      transport ??= open();
      const thread = m.inReplyTo === undefined ? {} : { inReplyTo: m.inReplyTo, references: [m.inReplyTo] };
      const info = await (await transport).sendMail({
        from: config.from,
        to: m.to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        ...thread,
      });
      if (info.rejected.length > 0) throw new Error(`the server refused the recipient ${m.to}`);
      return info.messageId;
    },
  };
}
