import { AuditUnavailableError } from '../errors.js';
import { Coalescer, type GroupListener } from '../store/coalescer.js';
import type { Database, Sql } from '../store/database.js';
import { linkEvents, oversizedEventProblem, type AuditEvent, type AuditEventInput } from './chain.js';
import { readChainHead } from './storedEvents.js';

export type AppendListener = (appended: readonly AuditEvent[]) => void;

/** Rows per INSERT inside a transaction; keeps one statement's JSON parameter a reasonable size. */
const INSERT_CHUNK = 2000;
const MAX_APPEND_ATTEMPTS = 10;
const PROBE_ROLLBACK = Symbol('probe rollback');

interface ChainHead {
  seq: bigint;
  hash: string;
}

const INSERT_FROM_JSON = `
  INSERT INTO audit_events (seq, at, kind, actor_type, actor_id, partner_id, subject_id, purpose, request_id,
                            released, denied, consent_ids, details, prev_hash, hash)
  SELECT e.seq::bigint, e.at::timestamptz, e."kind", e."actorType", e."actorId", e."partnerId", e."subjectId",
         e.purpose, e."requestId", e.released, e.denied, e."consentIds", e.details, e."prevHash", e.hash
  FROM jsonb_to_recordset($1::jsonb) AS e(seq text, at text, "kind" text, "actorType" text, "actorId" text,
       "partnerId" text, "subjectId" text, purpose text, "requestId" text, released jsonb, denied jsonb,
       "consentIds" jsonb, details jsonb, "prevHash" text, hash text)`;

/** $1 events, $2/$3 new head, $4/$5 the head they were linked onto. */
const APPEND_IF_HEAD_SQL = `
  WITH moved AS (
    UPDATE audit_head SET seq = $2::bigint, hash = $3 WHERE id = 1 AND seq = $4::bigint AND hash = $5 RETURNING 1
  ), inserted AS (
    ${INSERT_FROM_JSON}
    WHERE EXISTS (SELECT 1 FROM moved)
    RETURNING 1
  )
  SELECT count(*)::int AS n FROM inserted`;

async function readHead(db: Sql): Promise<ChainHead> {
  const head = await readChainHead(db);
  return { seq: BigInt(head.seq), hash: head.hash };
}

/**
 * The append-only, hash-chained audit log.
 *
 * Appends from concurrent requests are grouped into one statement (group
 * commit): the chain is a single sequence however many requests race, and
 * one commit serves many requests, which is what keeps audit-before-release
 * affordable. Every append checks and moves the head row atomically, so
 * replicas sharing a PostgreSQL database extend one chain too.
 */
export class AuditLog {
  private readonly appends = new Coalescer<AuditEventInput[], AuditEvent[]>((batch) => this.commitGroup(batch));
  private listeners: AppendListener[] = [];
  /** The head as this process last committed it; only a guess, checked by every append. */
  private head?: ChainHead;
  /** When appends started failing (and have not succeeded since); what readiness reports. */
  private failingSince?: Date;
  private lastCommitAt = 0;

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
        await writeEvents(tx, [{ kind: 'readiness.probe', at: new Date(), actorType: 'system', actorId: 'readyz' }]);
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

  /**
   * Appends inside a caller's transaction, for state changes that must be
   * recorded atomically with their audit event (a revocation and its event).
   */
  async appendWithin(tx: Sql, events: AuditEventInput[]): Promise<AuditEvent[]> {
    const problem = events.map(oversizedEventProblem).find(Boolean);
    if (problem) throw new AuditUnavailableError(new Error(problem));
    return writeEvents(tx, events);
  }

  /** Called after each commit with what it stored (checkpoints, metrics). */
  onAppended(listener: AppendListener): void {
    this.listeners.push(listener);
  }

  /** Tells listeners about events committed through appendWithin once their transaction committed. */
  notifyCommitted(events: readonly AuditEvent[]): void {
    if (!events.length) return;
    const last = events[events.length - 1]!;
    if (!this.head || BigInt(last.seq) > this.head.seq) this.head = { seq: BigInt(last.seq), hash: last.hash };
    for (const l of this.listeners) l(events);
  }

  /**
   * One statement, one round trip, its own implicit transaction: move the head
   * from the value we believe in to the new one and insert the events, or do
   * nothing if another writer (a replica, a consent transaction) moved it
   * first, in which case we re-read the head, re-link and try again.
   */
  private async commitBatch(inputs: AuditEventInput[]): Promise<AuditEvent[]> {
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      const head = this.head ?? (await readHead(this.db));
      const events = linkEvents(inputs, head);
      const last = events[events.length - 1]!;
      const [result] = await this.db.query<{ n: number }>(APPEND_IF_HEAD_SQL, [
        JSON.stringify(events),
        last.seq,
        last.hash,
        head.seq.toString(),
        head.hash,
      ]);
      if (result?.n === events.length) {
        this.head = { seq: BigInt(last.seq), hash: last.hash };
        return events;
      }
      this.head = undefined;
    }
    throw new Error('the audit chain head kept moving; giving up after several attempts');
  }

  /** One group of concurrent appends: one statement, then each caller gets its own events back. */
  private async commitGroup(batch: AuditEventInput[][]): Promise<AuditEvent[][]> {
    const stored = await this.commitBatch(batch.flat());
    this.failingSince = undefined;
    this.lastCommitAt = Date.now();
    this.notifyCommitted(stored);
    let offset = 0;
    return batch.map((events) => stored.slice(offset, (offset += events.length)));
  }
}

async function writeEvents(tx: Sql, inputs: AuditEventInput[]): Promise<AuditEvent[]> {
  if (!inputs.length) return [];
  const [head] = await tx.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE');
  if (!head) throw new Error('audit head row missing');
  const events = linkEvents(inputs, { seq: BigInt(head.seq), hash: head.hash });
  for (let i = 0; i < events.length; i += INSERT_CHUNK) {
    await tx.query(INSERT_FROM_JSON, [JSON.stringify(events.slice(i, i + INSERT_CHUNK))]);
  }
  const last = events[events.length - 1]!;
  await tx.query('UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1', [last.seq, last.hash]);
  return events;
}
