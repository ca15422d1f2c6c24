import { pino, type DestinationStream, type Logger } from 'pino';
import { stdoutLogDestination } from './logDestination.js';

export type { Logger };

/** Structured JSON logs (pino): cheap on the hot path, readable with pino-pretty. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.client_assertion', '*.access_token'], censor: '[redacted]' },
  };
  // stdout through the one destination that a stalled or vanished reader cannot hold up (see logDestination.ts).
  return pino(options, destination ?? stdoutLogDestination());
}

/**
 * Start-up and shutdown are the process's own report (where it listens,
 * why it stopped), not diagnostics: written as JSON lines like the rest,
 * but whatever LOG_LEVEL says, as the plain lines before them were.
 */
export function lifecycleLogger(logger: Logger): Logger {
  return logger.child({}, { level: 'info' });
}
