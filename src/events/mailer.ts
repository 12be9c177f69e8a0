/**
 * Alert email over SMTP with the cluster's settings (objects/cluster: smtp_host, smtp_port,
 * smtp_username, smtp_password, smtp_tls_mode, the deprecated smtp_use_tls, email_from).
 * One message per alert change, addressed to every recipient.
 */
import nodemailer from 'nodemailer';

export interface SmtpSettings {
  smtp_host?: string;
  smtp_port?: number;
  smtp_username?: string;
  smtp_password?: string;
  smtp_tls_mode?: 'none' | 'starttls' | 'tls';
  smtp_use_tls?: boolean;
  email_from?: string;
}

export interface Mail {
  to: string[];
  subject: string;
  text: string;
}

export interface MailSender {
  send(settings: SmtpSettings, mail: Mail): Promise<void>;
}

/** Whether the settings are enough to send: a server and a sender address. */
export function smtpConfigured(s: SmtpSettings): boolean {
  return !!s.smtp_host && !!s.email_from;
}

export class SmtpMailer implements MailSender {
  async send(s: SmtpSettings, mail: Mail): Promise<void> {
    if (!smtpConfigured(s) || mail.to.length === 0) return;
    const mode = s.smtp_tls_mode ?? (s.smtp_use_tls ? 'starttls' : 'none');
    const transport = nodemailer.createTransport({
      host: s.smtp_host,
      port: s.smtp_port ?? (mode === 'tls' ? 465 : 25),
      secure: mode === 'tls',
      requireTLS: mode === 'starttls',
      ignoreTLS: mode === 'none',
      ...(s.smtp_username ? { auth: { user: s.smtp_username, pass: s.smtp_password ?? '' } } : {}),
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
    try {
      await transport.sendMail({ from: s.email_from, to: mail.to, subject: mail.subject, text: mail.text });
    } finally {
      transport.close();
    }
  }
}
