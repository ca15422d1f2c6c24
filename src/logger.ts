import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs (pino): cheap on the hot path, readable with pino-pretty. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.client_assertion', '*.access_token'], censor: '[redacted]' },
  });
}
