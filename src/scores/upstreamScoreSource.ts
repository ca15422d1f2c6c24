import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleAll, type CircuitBreakerPolicy } from 'cockatiel';
import { Agent, request } from 'undici';
import type { ScoreSourceConfig } from '../config.js';
import { SourceUnavailableError, type SourceFailureReason } from '../errors.js';
import { Coalescer } from '../store/coalescer.js';
import type { ScoreSource, SourcedData, SourcedSubject, SubjectSourceAsk } from './scoreSource.js';
import { UpstreamCredentials } from './upstreamAuth.js';
import { buildUpstreamBatch, readUpstreamAnswer } from './upstreamQuery.js';

type UpstreamConfig = Extract<ScoreSourceConfig, { kind: 'upstream' }>;

/** An answer larger than this is cut off and refused: 1,000 subjects with every field are well under 2 MB. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/**
 * An existing GraphQL score service (the SDL is in the README). Each partner
 * request costs at most one upstream request, and concurrent partner
 * requests share one (the same Coalescer as snapshot reads), over kept-alive
 * connections. Every fetch has a deadline; a circuit breaker stops sending
 * to an upstream that keeps failing and lets one trial through after a pause.
 */
export class UpstreamScoreSource implements ScoreSource {
  readonly kind = 'upstream';
  readonly readsWithSnapshot = false;
  readonly breaker: CircuitBreakerPolicy;
  private readonly agent: Agent;
  private readonly credentials: UpstreamCredentials;
  private readonly batches: Coalescer<readonly SubjectSourceAsk[], Map<string, SourcedSubject>>;
  /** Upstream requests sent since start (tests and the benchmark read it). */
  requestsSent = 0;

  constructor(private readonly config: UpstreamConfig) {
    // TLS certificates are verified (undici's default, never turned off); extra CAs come from NODE_EXTRA_CA_CERTS.
    this.agent = new Agent({
      connections: config.connections,
      keepAliveTimeout: 30_000,
      maxResponseSize: MAX_ANSWER_BYTES,
      connect: { timeout: config.timeoutMs },
    });
    this.credentials = new UpstreamCredentials(config.auth, this.agent, config.timeoutMs);
    this.breaker = circuitBreaker(handleAll, { halfOpenAfter: config.breaker.resetMs, breaker: new ConsecutiveBreaker(config.breaker.failures) });
    // A GraphQL error may be one caller's subject's fault: re-run callers alone so only theirs fails.
    this.batches = new Coalescer(
      (callers) => this.breaker.execute(() => this.fetchBatch(callers)),
      (err) => err instanceof SourceUnavailableError && err.reason === 'graphql_errors',
    );
  }

  async fetchReleased(asks: readonly SubjectSourceAsk[]): Promise<SourcedData> {
    if (!asks.length) return { ok: true, subjects: new Map() };
    try {
      return { ok: true, subjects: await this.batches.submit(asks) };
    } catch (err) {
      return { ok: false, error: asSourceError(err) };
    }
  }

  /** Readiness asks the upstream directly, past the breaker: it must notice recovery while the circuit is open. */
  readonly probe = async (): Promise<void> => {
    await this.post('query ConsentryProbe { __typename }', {});
  };

  get circuitOpen(): boolean {
    return this.breaker.state === CircuitState.Open || this.breaker.state === CircuitState.Isolated;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async fetchBatch(callers: (readonly SubjectSourceAsk[])[]): Promise<Map<string, SourcedSubject>[]> {
    const batch = buildUpstreamBatch(callers);
    return readUpstreamAnswer(batch, await this.post(batch.query, batch.variables));
  }

  private async post(query: string, variables: Record<string, unknown>): Promise<unknown> {
    const signal = AbortSignal.timeout(this.config.timeoutMs);
    try {
      const authorization = await this.credentials.header();
      this.requestsSent++;
      const res = await request(this.config.url, {
        method: 'POST',
        dispatcher: this.agent,
        signal,
        headers: { authorization, 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
        body: JSON.stringify({ query, variables }),
      });
      if (res.statusCode === 401) this.credentials.invalidate();
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new SourceUnavailableError(res.statusCode === 401 ? 'auth' : 'http_status');
      }
      const text = await res.body.text();
      try {
        return JSON.parse(text);
      } catch {
        throw new SourceUnavailableError('malformed');
      }
    } catch (err) {
      if (err instanceof SourceUnavailableError) throw err;
      throw new SourceUnavailableError(signal.aborted ? 'timeout' : 'connection', err);
    }
  }
}

function asSourceError(err: unknown): SourceUnavailableError {
  if (err instanceof SourceUnavailableError) return err;
  const reason: SourceFailureReason = err instanceof BrokenCircuitError ? 'circuit_open' : 'connection';
  return new SourceUnavailableError(reason, err);
}
