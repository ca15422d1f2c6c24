import { StoreUnavailableError } from '../errors.js';

interface Queued<In, Out> {
  input: In;
  resolve: (out: Out) => void;
  reject: (err: unknown) => void;
  joined?: GroupListener;
}

/** Told how many callers share the run that serves this one (tracing records it). */
export type GroupListener = (groupSize: number) => void;

/** How long a run may wait for more callers before it starts, in ms (0: start at once); asked before each run. */
export type Linger = () => number;

/**
 * Group execution for the hot path: the first caller runs at once, and
 * everyone who arrives while that run is in flight is served by the next run,
 * together. At low load nothing waits; under load one statement serves many
 * requests, so round trips per request fall as concurrency rises.
 *
 * An owner may let a run wait a little for more callers first (see gather).
 *
 * A run starts only after every caller in it submitted, so it observes
 * everything committed before any of them started: batching never serves a
 * caller from a read taken before its request began.
 */
export class Coalescer<In, Out> {
  private queued: Queued<In, Out>[] = [];
  private running = false;
  /**
   * Callers waiting at the end of the last run: those it served and those who came during it. A run
   * that may linger waits for as many (see gather).
   */
  private lastWaiting = 0;
  /** How long the last run took, in ms: a run lingers no longer (see gather). */
  private lastRunMs = 0;
  /** Set while a run lingers: ends the wait early once enough callers have come. */
  private gathering?: { target: number; end: () => void };

  /**
   * `run` gets the inputs in submission order and must return one output per input, in the same order.
   * `isolate` says whether a failed group is worth re-running caller by caller (see runAlone).
   * `linger`, when given, lets a run wait a little for more callers (see gather).
   */
  constructor(
    private readonly run: (inputs: In[]) => Promise<Out[]>,
    private readonly isolate: (err: unknown) => boolean = (err) => !(err instanceof StoreUnavailableError),
    private readonly linger?: Linger,
  ) {}

  submit(input: In, joined?: GroupListener): Promise<Out> {
    return new Promise((resolve, reject) => {
      this.queued.push({ input, resolve, reject, joined });
      if (this.gathering && this.queued.length >= this.gathering.target) this.gathering.end();
      if (!this.running) void this.drain();
    });
  }

  /**
   * Under steady load the runs settle into two alternating groups, one running while the other gathers,
   * each about half of the callers: after a run, its callers come back while the next group has already
   * started. Where a run costs much the same whatever its size and its cost is what limits (see
   * AuditLog), waiting up to `ms` for as many callers as were waiting at the end of the last run
   * turns those two half groups into one.
   *
   * Never longer than the last run took: the callers still to come would otherwise be served by the
   * run after this one, which starts about one run's time later, so a longer wait could only answer
   * them later than not waiting at all.
   */
  private gather(ms: number): Promise<void> {
    const target = this.lastWaiting;
    return new Promise((done) => {
      const end = () => {
        clearTimeout(timer);
        this.gathering = undefined;
        done();
      };
      const timer = setTimeout(end, ms);
      this.gathering = { target, end };
    });
  }

  /**
   * The shared statement failed with the store up: one caller's input may be
   * at fault (a value the database refuses). Each caller runs alone, so only
   * its own input can fail it. An unreachable store fails everyone at once instead.
   */
  private async runAlone(batch: Queued<In, Out>[]): Promise<void> {
    for (const b of batch) {
      try {
        const [output] = await this.run([b.input]);
        b.resolve(output!);
      } catch (err) {
        b.reject(err);
      }
    }
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queued.length) {
        const lingerMs = Math.min(this.linger?.() ?? 0, this.lastRunMs);
        if (lingerMs > 0 && this.queued.length < this.lastWaiting) await this.gather(lingerMs);
        const batch = this.queued;
        this.queued = [];
        for (const b of batch) b.joined?.(batch.length);
        try {
          const started = performance.now();
          const outputs = await this.run(batch.map((b) => b.input));
          this.lastRunMs = performance.now() - started;
          this.lastWaiting = batch.length + this.queued.length;
          batch.forEach((b, i) => b.resolve(outputs[i]!));
        } catch (err) {
          if (batch.length > 1 && this.isolate(err)) await this.runAlone(batch);
          else for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
