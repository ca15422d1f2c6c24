/** Starting the servers the benchmarks drive. */
import { spawn, type ChildProcess } from 'node:child_process';
import { GATEWAY_NODE_FLAGS } from '../src/cli/gatewayNodeFlags.js';

/** Consentry's CLI in the build, what `npm start` runs (`npm run bench` builds first). */
export const CONSENTRY = 'dist/src/cli/main.js';

/**
 * The V8 flags Consentry runs with, as `npm start` runs it; BENCH_GATEWAY_FLAGS
 * overrides them (set it empty to measure V8's defaults).
 */
const CONSENTRY_FLAGS = process.env.BENCH_GATEWAY_FLAGS === undefined ? [...GATEWAY_NODE_FLAGS] : process.env.BENCH_GATEWAY_FLAGS.split(' ').filter(Boolean);

/** Node flags that write a CPU profile of a server into bench/results/profile when BENCH_PROFILE is set. */
export const PROFILE_FLAGS = process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=bench/results/profile'] : [];

/**
 * Starts a server and resolves once it prints `readyText`. Consentry runs
 * from its build: run through tsx it would also pay for tsx's helpers on
 * every call. The baselines run through tsx.
 */
export function start(args: string[], env: Record<string, string>, readyText: string, nodeFlags: string[] = []): Promise<ChildProcess> {
  const fromBuild = args[0] === CONSENTRY;
  const child = spawn(process.execPath, [...nodeFlags, ...(fromBuild ? CONSENTRY_FLAGS : ['--import', 'tsx']), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes(readyText)) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}
