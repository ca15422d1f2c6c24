import { AuditUnavailableError } from '../errors.js';
import { Coalescer, type GroupListener } from '../store/coalescer.js';
import type { FactsCheck } from '../store/accessSnapshot.js';
import type { Database, Sql } from '../store/database.js';
import { ChainSharing } from './chainSharing.js';
import { oversizedEventProblem, prepareEvent, type AuditEvent, type AuditEventInput, type PreparedEvent } from './chain.js';

export type AppendListener = (appended: readonly AuditEvent[]) => void;

/** Records audit events inside an audited transaction; resolves with them as they will be committed. */
export type RecordEvents = (events: AuditEventInput[]) => Promise<AuditEvent[]>;

/** Events per audit_append call inside a transaction; keeps one statement's JSON parameter a reasonable size. */
const APPEND_CHUNK = 2000;
const PROBE_ROLLBACK = Symbol('probe rollback');
const STALE = Symbol('facts changed');

/**
 * The facts a request decided from changed before its events could be
 * placed: nothing was recorded, and the request decides again from a fresh
 * read. Not a failure of the log.
 */
export class StaleFactsError extends Error {
  constructor() {
    super('the decision facts changed before the audit append');
    this.name = 'StaleFactsError';
  }
}

/** Events as stored; for a checked append, also the transaction id as of which its facts were found current. */
export interface CheckedAppend {
  events: AuditEvent[];
  basis: bigint | null;
}

interface GroupAppend {
  events: PreparedEvent[];
  /** For decisions: the facts they were made from, checked in the append's statement. */
  check?: FactsCheck;
}

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
  /**
   * While other writers share the chain, a group may wait up to `groupLingerMs` for as many requests as
   * were waiting at the end of the last one (see Coalescer.gather): each statement then carries about
   * all of this process's concurrent requests instead of half of them, and the chain's statements, each
   * costing PostgreSQL much the same whatever its size, serve twice as many. Alone on the chain, a group
   * never waits.
   */
  private readonly sharing = new ChainSharing();
  private readonly appends = new Coalescer<GroupAppend, CheckedAppend | typeof STALE>(
    (batch) => this.commitGroup(batch),
    undefined,
    () => (this.sharing.shared() ? this.groupLingerMs : 0),
  );
  private listeners: AppendListener[] = [];
  /** When appends started failing (and have not succeeded since); what readiness reports. */
  private failingSince?: Date;
  private lastCommitAt = 0;
  /**
   * Statements sent to append, and groups committed by them (equal by construction), and appends refused
   * because their facts had changed (each decided again): reported by the benchmark and /metrics.
   */
  readonly counts = { attempts: 0, committed: 0, stale: 0 };

  /** `groupLingerMs`: CONSENTRY_AUDIT_GROUP_LINGER_MS; 0, groups never wait. */
  constructor(
    private readonly db: Database,
    private readonly groupLingerMs = 0,
  ) {}

  /**
   * Appends and durably commits; resolves with the stored events, rejects with AuditUnavailableError.
   * `joined` learns how many appends share the group commit (tracing).
   */
  async append(events: AuditEventInput[], joined?: GroupListener): Promise<AuditEvent[]> {
    if (events.length === 0) return [];
    return (await this.submit(events, joined)).events;
  }

  /**
   * Appends the events recording decisions only if the facts they were decided from (`check`) are still
   * current, and rejects with StaleFactsError otherwise (AuditUnavailableError on failure). Resolves with
   * the stored events and the transaction id as of which the append found the facts current.
   */
  appendDecisions(events: AuditEventInput[], check: FactsCheck, joined?: GroupListener): Promise<CheckedAppend> {
    return this.submit(events, joined, check);
  }

  private submit(events: AuditEventInput[], joined?: GroupListener, check?: FactsCheck): Promise<CheckedAppend> {
    const prepared = events.map(prepareEvent);
    // Checked before the group commit: one caller's oversized event must not fail the others' statement.
    const problem = prepared.map(oversizedEventProblem).find(Boolean);
    if (problem) return Promise.reject(new AuditUnavailableError(new Error(problem)));
    return this.appends.submit({ events: prepared, check }, joined).then(
      (stored) => {
        if (stored !== STALE) return stored;
        this.counts.stale++;
        throw new StaleFactsError();
      },
      (err: unknown) => {
        this.failingSince ??= new Date();
        throw new AuditUnavailableError(err);
      },
    );
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
        const prepared = events.map(prepareEvent);
        const problem = prepared.map(oversizedEventProblem).find(Boolean);
        if (problem) throw new AuditUnavailableError(new Error(problem));
        const stored = await appendEvents(tx, prepared);
        recorded.push(...stored);
        return stored;
      }),
    );
    this.committed(recorded);
    return result;
  }

  /** Whether other writers append to the chain between this process's groups (then its groups may wait, see `sharing`). */
  chainShared(): boolean {
    return this.sharing.shared();
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
        await appendEvents(tx, [prepareEvent({ kind: 'readiness.probe', at: new Date(), actorType: 'system', actorId: 'readyz' })]);
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

  /** One group of concurrent appends: one statement, then each caller gets its own events back (or learns its facts changed). */
  private async commitGroup(batch: GroupAppend[]): Promise<(CheckedAppend | typeof STALE)[]> {
    this.counts.attempts++;
    const results = batch.some((b) => b.check) ? await appendChecked(this.db, batch) : await appendUnchecked(this.db, batch);
    this.counts.committed++;
    const placed = results.flatMap((r) => (r === STALE ? [] : r.events));
    if (placed.length) this.sharing.placed(BigInt(placed[0]!.seq), BigInt(placed.at(-1)!.seq));
    this.committed(placed);
    return results;
  }
}

async function appendUnchecked(sql: Sql, batch: GroupAppend[]): Promise<CheckedAppend[]> {
  const stored = await appendEvents(sql, batch.flatMap((b) => b.events));
  let offset = 0;
  return batch.map((b) => ({ events: stored.slice(offset, (offset += b.events.length)), basis: null }));
}

/**
 * Appends through audit_append_checked, in statements of at most APPEND_CHUNK
 * events (whole requests each): every request's events are placed, or, if its
 * facts changed, none of them.
 */
async function appendChecked(sql: Sql, batch: GroupAppend[]): Promise<(CheckedAppend | typeof STALE)[]> {
  const results: (CheckedAppend | typeof STALE)[] = [];
  for (let from = 0; from < batch.length; ) {
    let to = from + 1;
    for (let n = batch[from]!.events.length; to < batch.length && n + batch[to]!.events.length <= APPEND_CHUNK; to++) n += batch[to]!.events.length;
    const part = batch.slice(from, to);
    const unplaced = part.map((b) => b.events);
    const payload = sequencerInput(unplaced, true);
    const checks = part.flatMap(({ check }, req) =>
      check
        ? [
            {
              req,
              partner_id: check.partnerId,
              status: check.status,
              scopes: check.scopes,
              purposes: check.purposes,
              subjects: check.subjects,
              basis: check.basis,
              trustedDocumentsOnly: check.trustedDocumentsOnly,
              documentHash: check.documentHash,
            },
          ]
        : [],
    );
    const rows = await sql.query<{ req: number | null; seq: string | null; prev_hash: string | null; hash: string | null; basis: string }>(
      'SELECT req, seq::text AS seq, prev_hash, hash, basis FROM audit_append_checked($1::jsonb, $2::jsonb)',
      [payload, JSON.stringify(checks)],
    );
    // Placed rows carry no request: in seq order they are the events of the requests not named stale, in order.
    const stale = new Set(rows.flatMap((r) => (r.seq === null ? [r.req] : [])));
    const placed = rows.filter((r) => r.seq !== null).sort((a, b) => (BigInt(a.seq!) < BigInt(b.seq!) ? -1 : 1));
    const expected = unplaced.reduce((n, events, req) => (stale.has(req) ? n : n + events.length), 0);
    if (placed.length !== expected) throw new Error(`the sequencer placed ${placed.length} of ${expected} events`);
    const basis = rows.length ? BigInt(rows[0]!.basis) : null;
    let next = 0;
    unplaced.forEach((events, req) => {
      if (stale.has(req)) return results.push(STALE);
      results.push({ events: events.map(({ event }) => placedEvent(event, placed[next++]!)), basis: part[req]!.check ? basis : null });
    });
    from = to;
  }
  return results;
}

/** Places `inputs` at the end of the chain through the database's sequencer; returns them as stored. */
async function appendEvents(sql: Sql, inputs: PreparedEvent[]): Promise<AuditEvent[]> {
  const stored: AuditEvent[] = [];
  for (let i = 0; i < inputs.length; i += APPEND_CHUNK) {
    const chunk = inputs.slice(i, i + APPEND_CHUNK);
    const payload = sequencerInput([chunk], false);
    const placed = await sql.query<{ seq: string; prev_hash: string; hash: string }>(
      'SELECT seq::text AS seq, prev_hash, hash FROM audit_append($1::jsonb)',
      [payload],
    );
    if (placed.length !== chunk.length) throw new Error(`the sequencer placed ${placed.length} of ${chunk.length} events`);
    chunk.forEach(({ event }, k) => stored.push(placedEvent(event, placed[k]!)));
  }
  return stored;
}

/**
 * The sequencer's input, as JSON: each event's own members (its columns),
 * its canonical parts and, when `numbered`, the index of its request (a
 * checked append places or refuses each request's events together).
 * Written as each event's JSON with the rest appended, not by copying every
 * event into a new object: that copy was a measurable share of a batch
 * request's CPU.
 */
function sequencerInput(requests: readonly (readonly PreparedEvent[])[], numbered: boolean): string {
  const str = JSON.stringify;
  const each = requests.flatMap((events, req) =>
    events.map(({ event, parts }) => {
      const columns = str(event);
      const numberOf = numbered ? `,"req":${req}` : '';
      return `${columns.slice(0, -1)},"before":${str(parts.before)},"between":${str(parts.between)},"after":${str(parts.after)}${numberOf}}`;
    }),
  );
  return `[${each.join(',')}]`;
}

/** An event as stored: its content and the place the sequencer gave it. */
function placedEvent(e: PreparedEvent['event'], placed: { seq: string | null; prev_hash: string | null; hash: string | null }): AuditEvent {
  return {
    seq: placed.seq!,
    at: e.at,
    kind: e.kind,
    actorType: e.actorType,
    actorId: e.actorId,
    partnerId: e.partnerId,
    subjectId: e.subjectId,
    purpose: e.purpose,
    requestId: e.requestId,
    released: e.released,
    denied: e.denied,
    consentIds: e.consentIds,
    details: e.details,
    prevHash: placed.prev_hash!,
    hash: placed.hash!,
  };
}
