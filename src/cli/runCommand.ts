import { userInfo } from 'node:os';
import type { Config } from '../config.js';
import { createServices, type Services } from '../services.js';
import { configFromEnv, processIO, reportFailure, type CommandIO } from './output.js';

/**
 * Runs one command's body: any failure is reported once, without a stack
 * trace, and sets a non-zero exit code instead of escaping to commander.
 */
export async function runCommand(json: boolean | undefined, body: (io: CommandIO) => Promise<void>): Promise<void> {
  try {
    await body(processIO);
  } catch (err) {
    reportFailure(processIO, !!json, err);
  }
}

/** Opens the gateway's services for the length of `work` and always closes the store afterwards. */
export async function withServices<T>(work: (services: Services) => Promise<T>, config: Config = configFromEnv()): Promise<T> {
  // The CLI's output is its result; keep the gateway's request logs off stdout.
  const services = await createServices({ ...config, logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel });
  try {
    return await work(services);
  } finally {
    await services.db.close();
  }
}

/** Who ran the command, as recorded in audit events (the OS account; the log has no other identity for the CLI). */
export function operatorId(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}
