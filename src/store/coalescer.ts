import { StoreUnavailableError } from '../errors.js';

interface Queued<In, Out> {
  input: In;
  resolve: (out: Out) => void;
  reject: (err: unknown) => void;
  joined?: GroupListener;
}

/** Told how many callers share the run that serves this one (tracing records it). */
export type GroupListener = (groupSize: number) => void;

/**
 * Group execution for the hot path: the first caller runs at once, and
 * everyone who arrives while that run is in flight is served by the next run,
 * together. At low load nothing waits; under load one statement serves many
 * requests, so round trips per request fall as concurrency rises.
 *
 * A run starts only after every caller in it submitted, so it observes
 * everything committed before any of them started: batching never serves a
 * caller from a read taken before its request began.
 */
export class Coalescer<In, Out> {
  private queued: Queued<In, Out>[] = [];
  private running = false;

  /**
   * `run` gets the inputs in submission order and must return one output per input, in the same order.
   * `isolate` says whether a failed group is worth re-running caller by caller (see runAlone).
   */
  constructor(
    private readonly run: (inputs: In[]) => Promise<Out[]>,
    private readonly isolate: (err: unknown) => boolean = (err) => !(err instanceof StoreUnavailableError),
  ) {}

  submit(input: In, joined?: GroupListener): Promise<Out> {
    return new Promise((resolve, reject) => {
      this.queued.push({ input, resolve, reject, joined });
      if (!this.running) void this.drain();
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
        const batch = this.queued;
        this.queued = [];
        for (const b of batch) b.joined?.(batch.length);
        try {
          const outputs = await this.run(batch.map((b) => b.input));
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
