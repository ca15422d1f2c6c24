import { AuditUnavailableError } from '../errors.js';
import { Coalescer, type GroupListener } from '../store/coalescer.js';
import type { Database, Sql } from '../store/database.js';
import { canonicalEventParts, oversizedEventProblem, unplacedEvent, type AuditEvent, type AuditEventInput } from './chain.js';

export type AppendListener = (appended: readonly AuditEvent[]) => void;

/** Records audit events inside an audited transaction; resolves with them as they will be committed. */
export type RecordEvents = (events: AuditEventInput[]) => Promise<AuditEvent[]>;

/** Events per audit_append call inside a transaction; keeps one statement's JSON parameter a reasonable size. */
const APPEND_CHUNK = 2000;
const PROBE_ROLLBACK = Symbol('probe rollback');

/**
 * The append-only, hash-chained audit log.
 *
 * The chain is sequenced inside the database: `audit_append` (a migration)
 * locks the head row, places and hashes the events, inserts them and moves
 * the head in one statement. Any number of writers (requests grouped by this
 * process, consent transactions, other replicas) queue on that row lock and
 * each succeed at the first attempt: there is no compare-and-swap to lose and
 * nothing to retry. Appends from concurrent requests are still grouped into
 * one statement (group commit), so one commit serves many requests.
 */
export class AuditLog {
  private readonly appends = new Coalescer<AuditEventInput[], AuditEvent[]>((batch) => this.commitGroup(batch));
  private listeners: AppendListener[] = [];
  /** When appends started failing (and have not succeeded since); what readiness reports. */
  private failingSince?: Date;
  private lastCommitAt = 0;
  /** Statements sent to append, and groups committed by them: equal by construction, reported by the benchmark. */
  readonly counts = { attempts: 0, committed: 0 };

  constructor(private readonly db: Database) {}

  /**
   * Appends and durably commits; resolves with the stored events, rejects with AuditUnavailableError.
   * `joined` learns how many appends share the group commit (tracing).
   */
  append(events: AuditEventInput[], joined?: GroupListener): Promise<AuditEvent[]> {
    if (events.length === 0) return Promise.resolve([]);
    // Checked before the group commit: one caller's oversized event must not fail the others' statement.
    const problem = events.map(oversizedEventProblem).find(Boolean);
    if (problem) return Promise.reject(new AuditUnavailableError(new Error(problem)));
    return this.appends.submit(events, joined).catch((err: unknown) => {
      this.failingSince ??= new Date();
      throw new AuditUnavailableError(err);
    });
  }

  /**
   * The audited transaction: state changes and the audit events that record
   * them commit together or not at all. `work` records events through
   * `record`; listeners (checkpoints, metrics) hear of them only once the
   * transaction has committed. Record events last where possible: from the
   * first record until the commit, the chain head is locked for everyone.
   */
  async transaction<T>(work: (tx: Sql, record: RecordEvents) => Promise<T>): Promise<T> {
    const recorded: AuditEvent[] = [];
    const result = await this.db.transaction(async (tx) =>
      work(tx, async (events) => {
        const problem = events.map(oversizedEventProblem).find(Boolean);
        if (problem) throw new AuditUnavailableError(new Error(problem));
        const stored = await appendEvents(tx, events);
        recorded.push(...stored);
        return stored;
      }),
    );
    this.committed(recorded);
    return result;
  }

  /** Undefined while appends succeed; otherwise since when they have been failing. */
  failing(): Date | undefined {
    return this.failingSince;
  }

  /** Whether this process's own appends say nothing recent about the log (idle, or failing): then only a probe can tell. */
  needsProbe(freshMs: number): boolean {
    return !!this.failingSince || Date.now() - this.lastCommitAt > freshMs;
  }

  /**
   * Checks that an append would commit now, without recording anything: the
   * same locking and insert as a real append, in a transaction that is rolled
   * back. Readiness uses it to notice recovery while no traffic is sent.
   */
  async probe(): Promise<void> {
    try {
      await this.db.transaction(async (tx) => {
        await appendEvents(tx, [{ kind: 'readiness.probe', at: new Date(), actorType: 'system', actorId: 'readyz' }]);
        throw PROBE_ROLLBACK;
      });
    } catch (err) {
      if (err !== PROBE_ROLLBACK) {
        this.failingSince ??= new Date();
        throw err;
      }
    }
    this.failingSince = undefined;
    this.lastCommitAt = Date.now();
  }

  /** Called after each commit with what it stored (checkpoints, metrics). */
  onAppended(listener: AppendListener): void {
    this.listeners.push(listener);
  }

  private committed(events: readonly AuditEvent[]): void {
    if (!events.length) return;
    this.failingSince = undefined;
    this.lastCommitAt = Date.now();
    for (const l of this.listeners) l(events);
  }

  /** One group of concurrent appends: one statement, then each caller gets its own events back. */
  private async commitGroup(batch: AuditEventInput[][]): Promise<AuditEvent[][]> {
    this.counts.attempts++;
    const stored = await appendEvents(this.db, batch.flat());
    this.counts.committed++;
    this.committed(stored);
    let offset = 0;
    return batch.map((events) => stored.slice(offset, (offset += events.length)));
  }
}

/** Places `inputs` at the end of the chain through the database's sequencer; returns them as stored. */
async function appendEvents(sql: Sql, inputs: AuditEventInput[]): Promise<AuditEvent[]> {
  const stored: AuditEvent[] = [];
  for (let i = 0; i < inputs.length; i += APPEND_CHUNK) {
    const unplaced = inputs.slice(i, i + APPEND_CHUNK).map(unplacedEvent);
    const payload = unplaced.map((e) => ({ ...e, ...canonicalEventParts(e) }));
    const placed = await sql.query<{ seq: string; prev_hash: string; hash: string }>(
      'SELECT seq::text AS seq, prev_hash, hash FROM audit_append($1::jsonb)',
      [JSON.stringify(payload)],
    );
    if (placed.length !== unplaced.length) throw new Error(`the sequencer placed ${placed.length} of ${unplaced.length} events`);
    unplaced.forEach((e, k) => stored.push({ ...e, seq: placed[k]!.seq, prevHash: placed[k]!.prev_hash, hash: placed[k]!.hash }));
  }
  return stored;
}
