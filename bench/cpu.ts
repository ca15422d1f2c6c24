/**
 * CPU accounting for the benchmarks, from /proc: CPU time is steadier than
 * wall time on a busy machine, and on a machine whose cores the servers,
 * PostgreSQL and the load generator share, it is what a request costs.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU seconds (user + system) a process has used; with `reapedChildren`, also
 * those of its children that have ended and been waited for.
 */
export function cpuSecondsOf(pid: number | string, reapedChildren = false): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const own = Number(fields[11]) + Number(fields[12]);
    return (reapedChildren ? own + Number(fields[13]) + Number(fields[14]) : own) / 100;
  } catch {
    return 0; // the process ended between listing and reading
  }
}

export function cpuSeconds(child: ChildProcess): number {
  return cpuSecondsOf(child.pid!);
}

/**
 * CPU seconds used so far by the local PostgreSQL server's processes (0 when
 * it runs elsewhere). It shares the machine's cores with the gateway, so it
 * belongs in the cost of a request. Backends that have ended count too, through
 * the postmaster that reaped them: summing only the live processes lost a
 * backend's whole history when a client pool closed an idle connection during
 * a measurement, which once made the difference negative.
 */
export function postgresCpuSeconds(): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') total += cpuSecondsOf(pid, true);
    } catch {
      // gone already
    }
  }
  return total;
}

/** The machine's CPU time so far, busy and idle, in seconds over all cores (/proc/stat). */
export function machineCpuSeconds(): { busy: number; idle: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const idle = fields[3]! + fields[4]!;
  const busy = fields[0]! + fields[1]! + fields[2]! + fields[5]! + fields[6]! + fields[7]!;
  return { busy: busy / 100, idle: idle / 100 };
}
