import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Database, Sql } from '../store/database.js';
import type { AuditLog } from './auditLog.js';
import type { AuditEvent } from './chain.js';
import { DENIED_SQL, NON_CONSENTING_SQL, tallyWindow, type CountedThrough } from './probingCounts.js';

export const PARTNER_FLAGGED = 'partner.flagged';
/** Advisory lock key that serialises probing evaluations across replicas ("probing" in ASCII). */
const PROBING_LOCK = 0x70726f62696e67n.toString();
/** Below this many decisions in a window a denial rate means nothing: one denied request is not 100% probing. */
export const MIN_ACCESS_EVENTS_FOR_RATE = 20;

export type ProbingReason = 'DENIAL_RATE' | 'NON_CONSENTING_SUBJECTS';

export interface ProbingThresholds {
  windowMinutes: number;
  maxDenialRate: number;
  maxDistinctNonConsenting: number;
  minAccessEvents: number;
}

export interface PartnerWindowStats {
  partnerId: string;
  accessEvents: number;
  deniedEvents: number;
  /** Subjects asked about without consent (CONSENT_REQUIRED): the signature of trawling for people. */
  distinctNonConsenting: number;
}

export interface ProbingAssessment extends PartnerWindowStats {
  flagged: boolean;
  reasons: ProbingReason[];
  denialRate: number;
}

export function probingThresholds(config: Config['probing'], minAccessEvents = MIN_ACCESS_EVENTS_FOR_RATE): ProbingThresholds {
  return { ...config, minAccessEvents };
}

/** The rule, pure: a partner probes when too much of what it asks is denied, or it asks about too many strangers. */
export function assessProbing(stats: PartnerWindowStats, t: ProbingThresholds): ProbingAssessment {
  const denialRate = stats.accessEvents ? stats.deniedEvents / stats.accessEvents : 0;
  const reasons: ProbingReason[] = [];
  if (stats.accessEvents >= t.minAccessEvents && denialRate > t.maxDenialRate) reasons.push('DENIAL_RATE');
  if (stats.distinctNonConsenting > t.maxDistinctNonConsenting) reasons.push('NON_CONSENTING_SUBJECTS');
  return { ...stats, denialRate, reasons, flagged: reasons.length > 0 };
}

/** Every partner's access statistics over [from, to): one aggregate query on the time index. */
export async function windowStats(db: Sql, from: Date, to: Date, partnerId?: string): Promise<PartnerWindowStats[]> {
  return db.query<PartnerWindowStats>(
    `SELECT partner_id AS "partnerId", count(*)::int AS "accessEvents",
            count(*) FILTER (WHERE ${DENIED_SQL})::int AS "deniedEvents",
            count(DISTINCT subject_id) FILTER (WHERE ${NON_CONSENTING_SQL})::int AS "distinctNonConsenting"
     FROM audit_events
     WHERE kind = 'access' AND at >= $1 AND at < $2 AND partner_id IS NOT NULL AND ($3::text IS NULL OR partner_id = $3)
     GROUP BY partner_id`,
    [from, to, partnerId ?? null],
  );
}

export interface PartnerFlag {
  partnerId: string;
  at: string;
  reasons: ProbingReason[];
}

/** partner.flagged events since a time, latest per partner. */
export async function flagsSince(db: Sql, since: Date, partnerId?: string): Promise<PartnerFlag[]> {
  const rows = await db.query<{ partnerId: string; at: Date | string; details: { reasons?: ProbingReason[] } }>(
    `SELECT DISTINCT ON (partner_id) partner_id AS "partnerId", at, details FROM audit_events
     WHERE kind = $1 AND at >= $2 AND ($3::text IS NULL OR partner_id = $3)
     ORDER BY partner_id, seq DESC`,
    [PARTNER_FLAGGED, since, partnerId ?? null],
  );
  return rows.map((r) => ({ partnerId: r.partnerId, at: new Date(r.at).toISOString(), reasons: r.details.reasons ?? [] }));
}

function flagEvent(a: ProbingAssessment, t: ProbingThresholds, windowStart: Date, now: Date) {
  // The log stores integers only: rates are recorded per mille.
  return {
    kind: PARTNER_FLAGGED,
    at: now,
    actorType: 'system' as const,
    actorId: 'probing-detector',
    partnerId: a.partnerId,
    details: {
      reasons: a.reasons,
      windowStart: windowStart.toISOString(),
      windowMinutes: t.windowMinutes,
      accessEvents: a.accessEvents,
      deniedEvents: a.deniedEvents,
      denialRatePerMille: Math.round(a.denialRate * 1000),
      distinctNonConsenting: a.distinctNonConsenting,
      thresholds: {
        maxDenialRatePerMille: Math.round(t.maxDenialRate * 1000),
        maxDistinctNonConsenting: t.maxDistinctNonConsenting,
        minAccessEvents: t.minAccessEvents,
      },
    },
  };
}

export interface ProbingMonitorDeps {
  db: Database;
  auditLog: AuditLog;
  clock: Clock;
  logger: Logger;
  config: Pick<Config, 'probing'>;
}

export interface ProbingSchedule {
  /** Evaluate at least this often. */
  everySeconds: number;
  /** And after this many access decisions, so a burst is caught before the timer fires. */
  everyAccessEvents: number;
  /**
   * But a burst never starts an evaluation sooner than this after the last
   * one: at a sustained high rate "every N events" alone would evaluate
   * without pause, each one a transaction under the fleet's advisory lock.
   */
  minSecondsBetweenBursts: number;
}

export interface EvaluateOptions {
  /**
   * Adopt the flags of an evaluation by another replica less than this many
   * seconds ago instead of evaluating again. 0 (the default): evaluate now.
   */
  reuseWithinSeconds?: number;
}

/**
 * Watches partners for probing without adding a query to any request: an
 * evaluation runs on a timer and after bursts of access events, brings the
 * window's running counts up to date with the events appended since the last
 * one (probingCounts.ts) and judges every partner. A partner is flagged once
 * per window (a `partner.flagged` audit event) and stays flagged while that
 * event is inside the window; evaluations are serialised across replicas and
 * each saves the flags it leaves, so replicas converge on the same answer.
 *
 * The fleet shares evaluations: a replica whose timer or burst fires within
 * one period of another replica's evaluation adopts its flags (table
 * probing_evaluations) instead of evaluating again. It never adopts its own,
 * so one replica alone evaluates at every trigger.
 */
export class ProbingMonitor {
  private flagged = new Set<string>();
  private accessSinceLast = 0;
  /** Monotonic, not the policy clock: the pause between evaluations is about load, not about windows. */
  private lastEvaluationStartedMs = -Infinity;
  private running = false;
  private timer?: NodeJS.Timeout;
  private inFlight?: Promise<PartnerFlag[]>;
  /** Names this process's evaluations in probing_evaluations. */
  private readonly evaluatorId = randomUUID();
  readonly thresholds: ProbingThresholds;

  constructor(
    private readonly deps: ProbingMonitorDeps,
    private readonly schedule: ProbingSchedule = { everySeconds: 30, everyAccessEvents: 500, minSecondsBetweenBursts: 5 },
  ) {
    this.thresholds = probingThresholds(deps.config.probing);
    deps.auditLog.onAppended((events) => this.countAccess(events));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.timer = setInterval(() => this.trigger(this.schedule.everySeconds), this.schedule.everySeconds * 1000);
    this.timer.unref();
    this.trigger(this.schedule.everySeconds);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.timer);
    await this.inFlight?.catch(() => undefined);
  }

  /** As of the last evaluation. */
  isFlagged(partnerId: string): boolean {
    return this.flagged.has(partnerId);
  }

  /** How many partners are flagged, as of the last evaluation (for /metrics). */
  flaggedCount(): number {
    return this.flagged.size;
  }

  /** Evaluates every partner (see EvaluateOptions); returns the flags raised by this evaluation. */
  evaluate(options: EvaluateOptions = {}): Promise<PartnerFlag[]> {
    this.inFlight ??= this.runEvaluation(options.reuseWithinSeconds ?? 0).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async runEvaluation(reuseWithinSeconds: number): Promise<PartnerFlag[]> {
    const counted = this.accessSinceLast;
    this.accessSinceLast = 0;
    this.lastEvaluationStartedMs = performance.now();
    const now = this.deps.clock();
    const windowStart = new Date(now.getTime() - this.thresholds.windowMinutes * 60_000);
    // Replicas evaluate one at a time (a transaction-scoped advisory lock), and
    // each reads the flags the previous one committed: one flag per partner and window.
    const outcome = await this.deps.auditLog.transaction(async (tx, record) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [PROBING_LOCK]);
      const shared = reuseWithinSeconds > 0 && (await othersRecentEvaluation(tx, this.evaluatorId, reuseWithinSeconds));
      if (shared) return { flags: shared, raised: [], reused: true };
      const previous = await lastEvaluation(tx);
      const tally = await tallyWindow(tx, windowStart, previous?.counted);
      // The saved flags are every partner.flagged event since the counts' start, as the last evaluation left them.
      const kept = tally.rebuilt || !previous ? await flagsSince(tx, tally.counted.since) : previous.flags;
      const flags = kept.filter((f) => new Date(f.at) >= windowStart);
      const alreadyFlagged = new Set(flags.map((f) => f.partnerId));
      const raised = tally.stats.map((s) => assessProbing(s, this.thresholds)).filter((a) => a.flagged && !alreadyFlagged.has(a.partnerId));
      await record(raised.map((a) => flagEvent(a, this.thresholds, windowStart, now)));
      const raisedFlags = raised.map((a) => ({ partnerId: a.partnerId, at: now.toISOString(), reasons: a.reasons }));
      const stillCounted = kept.filter((f) => new Date(f.at) >= tally.counted.since);
      await saveEvaluation(tx, this.evaluatorId, [...stillCounted, ...raisedFlags], tally.counted);
      return { flags, raised: raisedFlags, reused: false };
    });
    // An adopted evaluation may have come just before this replica's burst: its events wait for the next trigger.
    if (outcome.reused) this.accessSinceLast += counted;
    const current = outcome.flags.filter((f) => new Date(f.at) >= windowStart);
    this.flagged = new Set([...current, ...outcome.raised].map((f) => f.partnerId));
    return outcome.raised;
  }

  private countAccess(events: readonly AuditEvent[]): void {
    if (!this.running) return;
    for (const e of events) if (e.kind === 'access') this.accessSinceLast++;
    if (
      this.accessSinceLast >= this.schedule.everyAccessEvents &&
      performance.now() - this.lastEvaluationStartedMs >= this.schedule.minSecondsBetweenBursts * 1000
    ) {
      this.trigger(this.schedule.minSecondsBetweenBursts);
    }
  }

  /** An evaluation of its own, or the fleet's latest if another replica evaluated within `reuseWithinSeconds`. */
  private trigger(reuseWithinSeconds: number): void {
    this.evaluate({ reuseWithinSeconds }).catch((err) => this.deps.logger.warn({ err }, 'probing evaluation failed'));
  }
}

/** The flags of the fleet's latest evaluation, if another process made it less than `seconds` ago by the database's clock. */
async function othersRecentEvaluation(tx: Sql, evaluatorId: string, seconds: number): Promise<PartnerFlag[] | undefined> {
  const [row] = await tx.query<{ flags: PartnerFlag[] }>(
    `SELECT flags FROM probing_evaluations
     WHERE id = 1 AND evaluated_by <> $1 AND evaluated_at > clock_timestamp() - make_interval(secs => $2)`,
    [evaluatorId, seconds],
  );
  return row?.flags;
}

interface SavedEvaluation {
  flags: PartnerFlag[];
  counted?: CountedThrough;
}

async function lastEvaluation(tx: Sql): Promise<SavedEvaluation | undefined> {
  const [row] = await tx.query<{ flags: PartnerFlag[]; through: string | null; since: Date | string | null }>(
    `SELECT flags, counted_through_seq::text AS through, counted_since AS since FROM probing_evaluations WHERE id = 1`,
  );
  if (!row) return undefined;
  const counted = row.through !== null && row.since !== null ? { throughSeq: BigInt(row.through), since: new Date(row.since) } : undefined;
  return { flags: row.flags, counted };
}

async function saveEvaluation(tx: Sql, evaluatorId: string, flags: PartnerFlag[], counted: CountedThrough): Promise<void> {
  await tx.query(
    `INSERT INTO probing_evaluations (id, evaluated_at, evaluated_by, flags, counted_through_seq, counted_since)
     VALUES (1, clock_timestamp(), $1, $2::jsonb, $3::bigint, $4)
     ON CONFLICT (id) DO UPDATE SET evaluated_at = excluded.evaluated_at, evaluated_by = excluded.evaluated_by, flags = excluded.flags,
       counted_through_seq = excluded.counted_through_seq, counted_since = excluded.counted_since`,
    [evaluatorId, JSON.stringify(flags), counted.throughSeq.toString(), counted.since],
  );
}

const monitors = new WeakMap<object, ProbingMonitor>();

/** The one monitor per set of services (the gateway plugin starts it; reports and tests read it). */
export function probingMonitorFor(services: ProbingMonitorDeps): ProbingMonitor {
  let monitor = monitors.get(services);
  if (!monitor) {
    monitor = new ProbingMonitor(services);
    monitors.set(services, monitor);
  }
  return monitor;
}
