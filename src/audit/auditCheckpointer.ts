import type { Logger } from '../logger.js';
import type { Sql } from '../store/database.js';
import type { AuditLog } from './auditLog.js';
import type { AuditEvent } from './chain.js';
import { groupOwesCheckpoint, intervalCheckpointDue, type AppendedGroup, type CheckpointSchedule } from './checkpointDue.js';
import { latestCheckpoint, storeCheckpoint, type CheckpointDeps, type StoredCheckpoint } from './checkpoints.js';
import { readChainHead, readEventHash } from './storedEvents.js';

/**
 * Orders checkpoint decisions across replicas sharing a PostgreSQL database
 * ("chkpoint" in ASCII). The embedded engine has one owning process; there the
 * lock only orders that process's own transactions.
 */
const CHECKPOINT_LOCK = 0x63686b706f696e74n.toString();

/** Groups kept while their decision waits; the oldest are the ones that can owe a checkpoint. */
const MAX_PENDING_GROUPS = 256;

export interface DueCheckpoints {
  /** The latest checkpoint afterwards, undefined while there is none. */
  latest?: StoredCheckpoint;
  written: StoredCheckpoint[];
}

/**
 * Writes the checkpoints these appended groups owe and, with `checkInterval`,
 * the one a stale last checkpoint owes. Decided against the stored last
 * checkpoint under a transaction-scoped advisory lock, so replicas deciding at
 * once see each other's checkpoints and never write two for one position.
 */
export async function writeDueCheckpoints(
  deps: CheckpointDeps,
  schedule: CheckpointSchedule,
  groups: readonly AppendedGroup[],
  checkInterval: boolean,
): Promise<DueCheckpoints> {
  // Fetched first: the embedded engine runs one transaction at a time, so a
  // key lookup on another connection from inside ours would wait for ever.
  const signer = { key: await deps.keys.signingKey(), clock: deps.clock, issuer: deps.issuer };
  return deps.db.transaction(async (tx) => {
    // Waited for, not tried: a replica that gave up while another decided could miss the position it owes,
    // and with appends arriving back to back the other one decides nearly all the time. Decisions are short.
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [CHECKPOINT_LOCK]);
    let latest = await latestCheckpoint(tx);
    const anchorSeq = () => BigInt(latest?.seq ?? 0);
    const written: StoredCheckpoint[] = [];
    for (const group of [...groups].sort((a, b) => (a.first < b.first ? -1 : 1))) {
      // Signed at exactly the owed position (and each one after it this group still owes, when it takes
      // over): so checkpoints stay N apart whichever replica's decision runs first.
      while (groupOwesCheckpoint(group, anchorSeq(), schedule.every)) {
        const seq = anchorSeq() + BigInt(schedule.every);
        const hash = seq === group.last ? group.lastHash : await readEventHash(tx, seq);
        latest = await storeCheckpoint(tx, signer, { seq: seq.toString(), hash });
        written.push(latest);
      }
    }
    if (checkInterval) {
      const head = await readChainHead(tx);
      const anchorAt = latest ? new Date(latest.at) : await firstEventTime(tx);
      if (anchorAt && intervalCheckpointDue({ seq: anchorSeq(), at: anchorAt }, BigInt(head.seq), deps.clock(), schedule.intervalSeconds)) {
        latest = await storeCheckpoint(tx, signer, head);
        written.push(latest);
      }
    }
    return { latest, written };
  });
}

async function firstEventTime(sql: Sql): Promise<Date | undefined> {
  const [row] = await sql.query<{ at: Date | string }>('SELECT at FROM audit_events WHERE seq = 1');
  return row ? new Date(row.at) : undefined;
}

/**
 * Writes checkpoints by chain position, whichever replica appends and however
 * often replicas restart: the commit holding position "last checkpoint +
 * every" owes one, and so does a last checkpoint older than the interval with
 * events after it (checked at start-up and on a timer). A checkpoint held by a
 * third party is what makes a truncated or rewritten chain detectable.
 *
 * Checkpoint work never reaches a partner request: it starts after the
 * append's callers have resumed, and its failures are logged.
 */
export class AuditCheckpointer {
  private running = false;
  private timer?: NodeJS.Timeout;
  /** The last checkpoint's seq as last read. Checkpoints only move forward, so it is never ahead and only filters out groups that cannot owe one. */
  private anchorSeq?: bigint;
  private pending: AppendedGroup[] = [];
  private intervalCheckWanted = false;
  private run?: Promise<void>;
  private rerun = false;

  constructor(
    private readonly deps: CheckpointDeps & { auditLog: AuditLog; logger: Logger },
    private readonly schedule: CheckpointSchedule,
  ) {
    deps.auditLog.onAppended((events) => this.noteAppended(events));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // Start-up counts as a tick, so a replica that restarts often still anchors a quiet chain.
    this.tick();
    // Four looks per interval: the last checkpoint is never much more than one interval old while events arrive.
    this.timer = setInterval(() => this.tick(), (this.schedule.intervalSeconds * 1000) / 4);
    this.timer.unref();
  }

  /** Stops scheduling and waits for work under way, including groups still waiting for a decision. */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.timer);
    await this.settled();
  }

  /** Resolves once no checkpoint decision is scheduled or running. */
  async settled(): Promise<void> {
    while (this.run) await this.run;
  }

  private noteAppended(events: readonly AuditEvent[]): void {
    if (!this.running || !events.length) return;
    const last = events[events.length - 1]!;
    const group: AppendedGroup = { first: BigInt(events[0]!.seq), last: BigInt(last.seq), lastHash: last.hash };
    if (this.anchorSeq !== undefined && group.last < this.anchorSeq + BigInt(this.schedule.every)) return;
    if (this.pending.length < MAX_PENDING_GROUPS) this.pending.push(group);
    this.scheduleDecision();
  }

  private tick(): void {
    this.intervalCheckWanted = true;
    this.scheduleDecision();
  }

  private scheduleDecision(): void {
    if (this.run) {
      this.rerun = true;
      return;
    }
    this.rerun = false;
    // setImmediate: the appending requests resume (and answer) before any checkpoint work starts.
    const wait = new Promise<void>((resolve) => setImmediate(resolve));
    this.run = wait
      .then(() => this.decide())
      .catch((err: unknown) => this.deps.logger.warn({ err }, 'writing an audit checkpoint failed'))
      .finally(() => {
        this.run = undefined;
        this.afterDecision();
      });
  }

  private afterDecision(): void {
    const waiting = this.pending.length > 0 || this.intervalCheckWanted;
    if (waiting && this.rerun) this.scheduleDecision();
  }

  private async decide(): Promise<void> {
    const groups = this.pending;
    const checkInterval = this.intervalCheckWanted;
    this.pending = [];
    this.intervalCheckWanted = false;
    let outcome: DueCheckpoints;
    try {
      outcome = await writeDueCheckpoints(this.deps, this.schedule, groups, checkInterval);
    } catch (err) {
      this.keepForLater(groups, checkInterval);
      throw err;
    }
    this.anchorSeq = BigInt(outcome.latest?.seq ?? 0);
  }

  private keepForLater(groups: AppendedGroup[], checkInterval: boolean): void {
    this.pending = [...groups, ...this.pending].slice(0, MAX_PENDING_GROUPS);
    this.intervalCheckWanted ||= checkInterval;
  }
}
