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

/**
 * The one shape of every failure under --json, written to stderr as a single
 * line: `code` is stable and for programs, `message` is for people, `details`
 * (when there are any) are the failure's machine-readable facts.
 */
export interface ErrorOutput {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** Exit statuses: documented, so scripts can tell a refusal from a mistake in the command line. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export function errorOutput(code: string, message: string, details?: Record<string, unknown>): ErrorOutput {
  return { error: { code, message, ...(details && Object.keys(details).length ? { details } : {}) } };
}

/** Prints an error for people (or JSON with --json) to stderr and sets a non-zero exit code. */
export function reportFailure(io: CommandIO, json: boolean, err: unknown): void {
  const code = err instanceof ConfigError ? err.code : err instanceof UsageError ? err.code : isConsentryError(err) ? err.code : 'ERROR';
  const message = err instanceof Error ? err.message : String(err);
  // Operators may see why the store was unreachable; API clients never do.
  const cause = err instanceof Error ? err.cause : undefined;
  const detail = cause instanceof Error ? ` (${cause.message})` : '';
  const details = isConsentryError(err) ? err.details : undefined;
  io.stderr(json ? JSON.stringify(errorOutput(code, message + detail, details)) : `error: ${message}${detail}`);
  if (!(err instanceof ConfigError) && !(err instanceof UsageError) && !isConsentryError(err) && process.env.CONSENTRY_DEBUG) {
    io.stderr(String((err as Error).stack));
  }
  process.exitCode = err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
}

/**
 * Whether the command line asks for JSON, read before commander parses it:
 * a line commander rejects never reaches an action, yet its error must be JSON too.
 */
export function jsonRequested(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}

/** A command-line mistake commander caught (unknown option, missing argument...), in the documented error shape. */
export function usageErrorOutput(err: { code: string; message: string }): ErrorOutput {
  // A command group run without its subcommand: commander prints the help and says only "(outputHelp)".
  const message = err.code === 'commander.help' ? 'a command is required; run with --help to list them' : err.message.replace(/^error: /, '');
  return errorOutput(new UsageError('').code, message);
}

/** A whole number from `min` to `max`, from a command-line option. */
export function integerOption(name: string, value: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

/**
 * An operator's command may read the whole audit log, import a large file or
 * wait its turn behind a busy gateway: its statements and lock waits get
 * minutes, not the request path's seconds.
 */
const COMMAND_TIMEOUT_MS = 600_000;

export function configFromEnv(): Config {
  const config = loadConfig(process.env);
  const database = { ...config.database, statementTimeoutMs: Math.max(config.database.statementTimeoutMs, COMMAND_TIMEOUT_MS) };
  if (database.kind === 'postgres') database.lockTimeoutMs = Math.max(database.lockTimeoutMs, COMMAND_TIMEOUT_MS);
  return { ...config, database };
}

/** Splits "a,b, c" into ["a","b","c"]. */
export function commaList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
