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
  private queued: { input: In; resolve: (out: Out) => void; reject: (err: unknown) => void }[] = [];
  private running = false;

  /** `run` gets the inputs in submission order and must return one output per input, in the same order. */
  constructor(private readonly run: (inputs: In[]) => Promise<Out[]>) {}

  submit(input: In): Promise<Out> {
    return new Promise((resolve, reject) => {
      this.queued.push({ input, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queued.length) {
        const batch = this.queued;
        this.queued = [];
        try {
          const outputs = await this.run(batch.map((b) => b.input));
          batch.forEach((b, i) => b.resolve(outputs[i]!));
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
