import { AuditUnavailableError } from '../errors.js';
import type { Database, Sql } from '../store/database.js';
import { linkEvents, type AuditEvent, type AuditEventInput } from './chain.js';

export type AppendListener = (appended: readonly AuditEvent[]) => void;

interface PendingAppend {
  events: AuditEventInput[];
  resolve: (stored: AuditEvent[]) => void;
  reject: (err: unknown) => void;
}

/** Rows per INSERT; keeps one statement's JSON parameter a reasonable size. */
const INSERT_CHUNK = 2000;

/**
 * The append-only, hash-chained audit log.
 *
 * Appends from concurrent requests are grouped into one transaction (group
 * commit): the chain is a single sequence however many requests race, and
 * one commit serves many requests, which is what keeps audit-before-release
 * affordable. The head row is locked in that transaction, so replicas sharing
 * a PostgreSQL database extend one chain too.
 */
export class AuditLog {
  private pending: PendingAppend[] = [];
  private flushing = false;
  private listeners: AppendListener[] = [];

  constructor(private readonly db: Database) {}

  /** Appends and durably commits; resolves with the stored events, rejects with AuditUnavailableError. */
  append(events: AuditEventInput[]): Promise<AuditEvent[]> {
    if (events.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.pending.push({ events, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  /**
   * Appends inside a caller's transaction, for state changes that must be
   * recorded atomically with their audit event (a revocation and its event).
   */
  async appendWithin(tx: Sql, events: AuditEventInput[]): Promise<AuditEvent[]> {
    return writeEvents(tx, events);
  }

  /** Called after each commit with what it stored (checkpoints, metrics). */
  onAppended(listener: AppendListener): void {
    this.listeners.push(listener);
  }

  /** Tells listeners about events committed through appendWithin once their transaction committed. */
  notifyCommitted(events: readonly AuditEvent[]): void {
    if (events.length) for (const l of this.listeners) l(events);
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length) {
        const batch = this.pending;
        this.pending = [];
        try {
          const stored = await this.db.transaction((tx) => writeEvents(tx, batch.flatMap((p) => p.events)));
          let offset = 0;
          for (const p of batch) {
            p.resolve(stored.slice(offset, offset + p.events.length));
            offset += p.events.length;
          }
          this.notifyCommitted(stored);
        } catch (err) {
          const failure = new AuditUnavailableError(err);
          for (const p of batch) p.reject(failure);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

async function writeEvents(tx: Sql, inputs: AuditEventInput[]): Promise<AuditEvent[]> {
  if (!inputs.length) return [];
  const [head] = await tx.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE');
  if (!head) throw new Error('audit head row missing');
  const events = linkEvents(inputs, { seq: BigInt(head.seq), hash: head.hash });
  for (let i = 0; i < events.length; i += INSERT_CHUNK) {
    await tx.query(
      `INSERT INTO audit_events (seq, at, kind, actor_type, actor_id, partner_id, subject_id, purpose, request_id,
                                 released, denied, consent_ids, details, prev_hash, hash)
       SELECT e.seq::bigint, e.at::timestamptz, e."kind", e."actorType", e."actorId", e."partnerId", e."subjectId",
              e.purpose, e."requestId", e.released, e.denied, e."consentIds", e.details, e."prevHash", e.hash
       FROM jsonb_to_recordset($1::jsonb) AS e(seq text, at text, "kind" text, "actorType" text, "actorId" text,
            "partnerId" text, "subjectId" text, purpose text, "requestId" text, released jsonb, denied jsonb,
            "consentIds" jsonb, details jsonb, "prevHash" text, hash text)`,
      [JSON.stringify(events.slice(i, i + INSERT_CHUNK))],
    );
  }
  const last = events[events.length - 1]!;
  await tx.query('UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1', [last.seq, last.hash]);
  return events;
}
