import { Counter, Gauge, type Registry } from 'prom-client';
import type { AuditLog } from '../audit/auditLog.js';
import type { Clock } from '../clock.js';
import type { ScoreSourceConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { SubjectRecord } from '../store/scoreSummaries.js';
import { LocalScoreSource } from './localScoreSource.js';
import type { ScoreSource, SourcedData, SubjectSourceAsk } from './scoreSource.js';
import { UpstreamScoreSource } from './upstreamScoreSource.js';

export function createScoreSource(config: ScoreSourceConfig): ScoreSource {
  return config.kind === 'upstream' ? new UpstreamScoreSource(config) : new LocalScoreSource();
}

interface ReleasedScoresDeps {
  auditLog: Pick<AuditLog, 'append'>;
  logger: Logger;
  registry: Registry;
  clock: Clock;
}

/**
 * Fetches what a committed decision released, and makes a failed fetch
 * visible. The access events were committed before the fetch and record what
 * was *allowed*; when the fetch then fails, a `access.fetch_failed` event
 * (same request id) and a metric tell officers and operators that those
 * releases were not delivered.
 */
export class ReleasedScores {
  private readonly failures: Counter<'partner' | 'reason'>;

  constructor(
    readonly source: ScoreSource,
    private readonly deps: ReleasedScoresDeps,
  ) {
    this.failures = new Counter({
      name: 'consentry_source_fetch_failures_total',
      help: 'Score-source fetches that failed after a release decision was committed, by partner and reason',
      labelNames: ['partner', 'reason'],
      registers: [deps.registry],
    });
    let counted = 0;
    new Counter({
      name: 'consentry_source_requests_total',
      help: 'Requests sent to the upstream score service since start (probes included)',
      registers: [deps.registry],
      collect() {
        this.inc(Math.max(0, source.requestsSent - counted));
        counted = source.requestsSent;
      },
    });
  }

  async fetch(
    partnerId: string,
    requestId: string,
    asks: readonly SubjectSourceAsk[],
    snapshotRecords: ReadonlyMap<string, SubjectRecord>,
  ): Promise<SourcedData> {
    const data = await this.source.fetchReleased(asks, snapshotRecords);
    if (data.ok) return data;
    const reason = data.error.reason;
    this.failures.inc({ partner: partnerId, reason });
    this.deps.logger.warn({ requestId, partnerId, reason, subjects: asks.length }, 'score source fetch failed after release');
    await this.deps.auditLog
      .append([
        {
          kind: 'access.fetch_failed',
          at: this.deps.clock(),
          actorType: 'system',
          partnerId,
          requestId,
          details: { reason, source: this.source.kind, subjects: asks.length },
        },
      ])
      // The partner already gets nulls and the metric counts it; a failing audit log shows on /readyz.
      .catch((err: unknown) => this.deps.logger.warn({ requestId, err: (err as Error).message }, 'could not record a failed fetch'));
    return data;
  }

  close(): Promise<void> {
    return this.source.close();
  }
}
