/** pino, with secrets redacted wherever they could appear in a logged object. */
import pino, { type Logger } from 'pino';

export const REDACT = [
  'password', '*.password', 'credentials.password', 'req.headers.authorization', 'key', '*.key', 'smtp_password', '*.smtp_password',
];

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'openrs' } });
}
