/**
 * The load generator of the replicas benchmark: wrk where it is installed
 * (Debian's package `wrk`), else autocannon; BENCH_LOAD=autocannon or
 * BENCH_LOAD=wrk chooses. Both keep a fixed number of connections busy, each
 * sending the next request as soon as the last one is answered.
 *
 * Why wrk: the load generator shares the machine's two cores with the servers
 * and PostgreSQL, so its CPU is taken from what it measures. autocannon, in
 * JavaScript in the benchmark's own process, cost 0.24-0.40 ms of CPU per
 * request, a fifth of the machine; wrk, in C, costs a small fraction of that.
 *
 * Why wrk runs as a batch task (SCHED_BATCH, `chrt --batch 0` of util-linux;
 * BENCH_WRK_SCHED=normal runs it as an ordinary task): every response a server
 * writes wakes wrk, and an ordinary task woken after sleeping preempts what
 * runs on its core: a server with the rest of its responses still to write, or
 * PostgreSQL in an append. In a deployment the clients are on other machines
 * and a write only hands bytes to the network. With two replicas at 16
 * connections, where no core is left idle, the gateways were switched out
 * involuntarily 2,954 times a second (412 with one replica) and wrk woke 2,577
 * times a second; with wrk as a batch task, 784 and 605. A batch task keeps its
 * fair share of the CPU; it waits for the running task's time slice or a free
 * core instead of preempting it. Every server measured (Consentry's replicas
 * and both controls) is loaded the same way.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  headers: Record<string, string>;
  body: string;
}

export interface LoadResult {
  /** Responses received. */
  requests: number;
  p99Ms: number;
  /** Responses with status 503. */
  unavailable: number;
  /** Other responses outside 2xx, and requests that got no response (timeouts, resets). */
  otherFailures: number;
  /** CPU seconds the generator used in another process (0 when it ran in this one, where process.cpuUsage counts it). */
  externalCpuSeconds: number;
}

export type LoadGenerator = 'wrk' | 'autocannon';

/** How wrk is scheduled (see above): `batch` by default, or `normal`. */
const WRK_SCHED = process.env.BENCH_WRK_SCHED ?? 'batch';
if (WRK_SCHED !== 'batch' && WRK_SCHED !== 'normal') throw new Error(`BENCH_WRK_SCHED must be batch or normal, not ${WRK_SCHED}`);

/** The generator BENCH_LOAD names, or wrk when it is on the PATH. */
export async function chooseLoadGenerator(): Promise<LoadGenerator> {
  const asked = process.env.BENCH_LOAD;
  if (asked && asked !== 'wrk' && asked !== 'autocannon') throw new Error(`BENCH_LOAD must be wrk or autocannon, not ${asked}`);
  const onPath = (command: string) => run('sh', ['-c', `command -v ${command}`]).then(() => true, () => false);
  const generator = asked === 'wrk' || asked === 'autocannon' ? asked : (await onPath('wrk')) ? 'wrk' : 'autocannon';
  if (generator === 'wrk' && WRK_SCHED === 'batch' && !(await onPath('chrt'))) {
    throw new Error('chrt (util-linux) is not on the PATH: install it, or set BENCH_WRK_SCHED=normal to run wrk as an ordinary task');
  }
  return generator;
}

/** How the load generator is run, for the benchmark's header line. */
export function describeLoadGenerator(generator: LoadGenerator): string {
  return generator === 'wrk' ? `wrk (${WRK_SCHED === 'batch' ? 'as a batch task, SCHED_BATCH' : 'as an ordinary task'})` : generator;
}

export function runLoad(generator: LoadGenerator, options: LoadOptions): Promise<LoadResult> {
  return generator === 'wrk' ? wrk(options) : autocannonLoad(options);
}

async function autocannonLoad(o: LoadOptions): Promise<LoadResult> {
  const r = await autocannon({ url: o.url, method: 'POST', connections: o.connections, duration: o.seconds, headers: o.headers, body: o.body });
  const unavailable = r.statusCodeStats?.['503']?.count ?? 0;
  return { requests: r.requests.total, p99Ms: r.latency.p99, unavailable, otherFailures: r.non2xx - unavailable + r.errors, externalCpuSeconds: 0 };
}

/** Lua for wrk: the request, and a summary line with the counts by status, summed over wrk's threads. */
function wrkScript(o: LoadOptions): string {
  const long = (s: string) => {
    if (s.includes(']==]')) throw new Error('the request cannot be quoted for wrk');
    return `[==[${s}]==]`;
  };
  const headers = Object.entries(o.headers)
    .map(([k, v]) => `wrk.headers[ ${long(k)} ] = ${long(v)}`)
    .join('\n');
  return `wrk.method = "POST"
wrk.body = ${long(o.body)}
${headers}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) unavailable = 0; other = 0 end
function response(status, headers, body)
  if status == 503 then unavailable = unavailable + 1
  elseif status < 200 or status > 299 then other = other + 1 end
end
function done(summary, latency, requests)
  local u, o = 0, 0
  for _, t in ipairs(threads) do u = u + t:get("unavailable"); o = o + t:get("other") end
  local e = summary.errors
  io.write(string.format('WRK_RESULT {"requests":%d,"p99us":%d,"unavailable":%d,"other":%d,"errors":%d}\\n',
    summary.requests, latency:percentile(99), u, o, e.connect + e.read + e.write + e.timeout))
end
`;
}

let scriptDir: string | undefined;

async function wrk(o: LoadOptions): Promise<LoadResult> {
  if (!scriptDir) {
    const dir = (scriptDir = mkdtempSync(join(tmpdir(), 'consentry-bench-')));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const script = join(scriptDir, `load-${o.connections}-${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(script, wrkScript(o));
  const seconds = Math.max(1, Math.round(o.seconds));
  // The shell reports its reaped child's CPU time (cutime and cstime of /proc/<shell>/stat) once wrk has ended.
  const out = await run('sh', [
    '-c',
    `${WRK_SCHED === 'batch' ? 'chrt --batch 0 ' : ''}wrk "$@"; status=$?; echo "WRK_STAT $(cat /proc/$$/stat)"; exit $status`,
    'sh',
    '-t1',
    `-c${o.connections}`,
    `-d${seconds}s`,
    '--timeout',
    '10s',
    '-s',
    script,
    o.url,
  ]).finally(() => rmSync(script, { force: true }));
  const result = /^WRK_RESULT (.*)$/m.exec(out)?.[1];
  const stat = /^WRK_STAT .*\) (.*)$/m.exec(out)?.[1]?.split(' ');
  if (!result || !stat) throw new Error(`wrk printed no result:\n${out}`);
  const r = JSON.parse(result) as { requests: number; p99us: number; unavailable: number; other: number; errors: number };
  // Fields after the command's name: cutime and cstime are the 14th and 15th, in clock ticks (100 a second).
  const childTicks = Number(stat[13]) + Number(stat[14]);
  return { requests: r.requests, p99Ms: r.p99us / 1000, unavailable: r.unavailable, otherFailures: r.other + r.errors, externalCpuSeconds: childTicks / 100 };
}

/** A command's output, standard error after standard output (wrk reports an error in its script there, and exits 0). */
function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 600_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${command}: ${err.message}\n${stderr}`)) : resolve(stdout + stderr),
    );
  });
}
