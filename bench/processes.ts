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
 * Starts a server and resolves once it prints `readyText`. Every server runs
 * compiled: Consentry from its build (`npm run build`), a baseline given as
 * `bench/<name>.ts` from `dist/bench/<name>.js` (`npm run build:bench`). Run
 * through tsx, a server also pays for tsx's helpers: about 4 % more CPU per
 * request for the bare server, which flattered Consentry's ratios.
 */
export function start(args: string[], env: Record<string, string>, readyText: string, nodeFlags: string[] = []): Promise<ChildProcess> {
  const [script, ...rest] = args;
  const consentry = script === CONSENTRY;
  const compiled = consentry ? script : `dist/${script!.replace(/\.ts$/, '.js')}`;
  const child = spawn(process.execPath, [...nodeFlags, ...(consentry ? CONSENTRY_FLAGS : []), compiled, ...rest], {
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

/** Stops servers started by `start` and resolves once every one has exited. */
export function stop(children: readonly ChildProcess[]): Promise<unknown[]> {
  return Promise.all(children.map((c) => new Promise((exited) => (c.kill('SIGTERM'), c.once('exit', exited)))));
}
