import { ConfigError, loadConfig, type Config } from '../config.js';
import { isConsentryError } from '../errors.js';

export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const processIO: CommandIO = {
  stdout: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  stderr: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
};

/** A failure the operator caused (bad flag, bad file); printed without a stack trace. */
export class UsageError extends Error {
  readonly code = 'USAGE';
}

/** Prints a result: JSON with --json, the human text otherwise. */
export function printResult(io: CommandIO, json: boolean, data: unknown, human: string): void {
  io.stdout(json ? JSON.stringify(data, null, 2) : human);
}

/** Prints an error for people (or JSON with --json) to stderr and sets a non-zero exit code. */
export function reportFailure(io: CommandIO, json: boolean, err: unknown): void {
  const code = err instanceof ConfigError ? err.code : err instanceof UsageError ? err.code : isConsentryError(err) ? err.code : 'ERROR';
  const message = err instanceof Error ? err.message : String(err);
  // Operators may see why the store was unreachable; API clients never do.
  const cause = err instanceof Error ? err.cause : undefined;
  const detail = cause instanceof Error ? ` (${cause.message})` : '';
  io.stderr(json ? JSON.stringify({ error: { code, message: message + detail } }) : `error: ${message}${detail}`);
  if (!(err instanceof ConfigError) && !(err instanceof UsageError) && !isConsentryError(err) && process.env.CONSENTRY_DEBUG) {
    io.stderr(String((err as Error).stack));
  }
  process.exitCode = err instanceof UsageError ? 2 : 1;
}

export function configFromEnv(): Config {
  return loadConfig(process.env);
}

/** Splits "a,b, c" into ["a","b","c"]. */
export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
