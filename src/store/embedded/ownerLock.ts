import { readFileSync, unlinkSync } from 'node:fs';
import { mkdir, open, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Exactly one process may open an embedded data directory: PGlite keeps the
 * database in that process's memory and writes it back, so a second opener
 * would silently overwrite the first one's changes. The owner records itself
 * in a lock file; everyone else reaches the database through the owner's
 * socket. The record names the owner by pid and the pid's start time, so a
 * lock left by a killed process is recognised as stale even if the pid has
 * been reused since.
 */
export interface OwnerRecord {
  pid: number;
  /** The kernel's start time of `pid` (Linux); tells a live owner from an unrelated process that got its pid. */
  pidStartedAt?: string;
  /** `serve`, or the CLI command holding the directory for its own run. */
  command: string;
  /** The directory holding the owner's `.s.PGSQL.5432` socket. */
  socketDir: string;
  startedAt: string;
  /** False while the owner is still opening and migrating the database. */
  ready: boolean;
}

export const LOCK_FILE = 'consentry-owner.json';

export type LockOutcome = { owned: OwnerLock } | { owner: OwnerRecord };

export class OwnerLock {
  private constructor(
    readonly path: string,
    private record: OwnerRecord,
  ) {}

  /**
   * Takes the directory, or finds its live owner. A stale lock (its process
   * is gone) is taken over; a lock whose owner is still starting is waited
   * for, up to `readyWaitMs`, so a command issued right after `serve` reaches
   * the gateway instead of failing.
   */
  static async acquire(dataDir: string, claim: Omit<OwnerRecord, 'pid' | 'pidStartedAt' | 'startedAt' | 'ready'>, readyWaitMs = 30_000): Promise<LockOutcome> {
    const path = join(dataDir, LOCK_FILE);
    const deadline = Date.now() + readyWaitMs;
    const record: OwnerRecord = { pid: process.pid, pidStartedAt: processStartTime(process.pid), startedAt: new Date().toISOString(), ready: false, ...claim };
    for (;;) {
      try {
        const handle = await open(path, 'wx', 0o600);
        try {
          await handle.writeFile(JSON.stringify(record));
        } finally {
          await handle.close();
        }
        return { owned: new OwnerLock(path, record) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const current = await readRecord(path);
      if (current === 'missing') continue;
      if (current === 'unreadable' || !isAlive(current)) {
        await removeStale(path, current);
        continue;
      }
      if (current.ready || Date.now() > deadline) return { owner: current };
      await sleep(50);
    }
  }

  /** Publishes that the database is open and migrated: clients may connect. */
  async markReady(): Promise<void> {
    this.record = { ...this.record, ready: true };
    // Written aside and renamed over, so a reader never sees a half-written record and the lock never disappears.
    const next = `${this.path}.${process.pid}`;
    await writeFile(next, JSON.stringify(this.record), { mode: 0o600 });
    await rename(next, this.path);
  }

  async release(): Promise<void> {
    const current = await readRecord(this.path);
    if (typeof current === 'object' && current.pid === this.record.pid && current.startedAt === this.record.startedAt) {
      await unlink(this.path).catch(() => undefined);
    }
  }

  /** Synchronous release for `process.on('exit')`, where nothing asynchronous runs. */
  releaseSync(): void {
    try {
      const current = JSON.parse(readFileSync(this.path, 'utf8')) as OwnerRecord;
      if (current.pid === this.record.pid && current.startedAt === this.record.startedAt) {
        unlinkSync(this.path);
      }
    } catch {
      // Already gone, or never ours.
    }
  }
}

async function readRecord(path: string): Promise<OwnerRecord | 'missing' | 'unreadable'> {
  // A lock file is created empty and written right after; give a writer a moment before calling it unreadable.
  for (let attempt = 0; attempt < 40; attempt++) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw err;
    }
    try {
      const parsed = JSON.parse(text) as OwnerRecord;
      if (typeof parsed.pid === 'number' && typeof parsed.socketDir === 'string') return parsed;
    } catch {
      // Being written.
    }
    await sleep(50);
  }
  return 'unreadable';
}

function isAlive(record: OwnerRecord): boolean {
  try {
    process.kill(record.pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const startedAt = processStartTime(record.pid);
  return !record.pidStartedAt || !startedAt || startedAt === record.pidStartedAt;
}

/**
 * Removes a stale lock. Several processes may find the same stale lock at
 * once; a short-lived takeover directory makes sure only one of them removes
 * it, so nobody deletes the lock a faster competitor has just created.
 */
async function removeStale(path: string, seen: OwnerRecord | 'unreadable'): Promise<void> {
  const takeover = `${path}.takeover`;
  try {
    await mkdir(takeover);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // A competitor is taking over; its directory is stale if it died doing so.
    const age = await stat(takeover).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > 5_000) await rmdir(takeover).catch(() => undefined);
    await sleep(20);
    return;
  }
  try {
    const current = await readRecord(path);
    const unchanged = current === 'unreadable' ? seen === 'unreadable' : typeof current === 'object' && typeof seen === 'object' && current.pid === seen.pid && current.startedAt === seen.startedAt;
    if (unchanged) await unlink(path).catch(() => undefined);
  } finally {
    await rmdir(takeover).catch(() => undefined);
  }
}

/** Field 22 of /proc/PID/stat; undefined where there is no /proc. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses; count fields after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
