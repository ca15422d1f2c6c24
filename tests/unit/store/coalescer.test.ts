import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../../src/errors.js';
import { Coalescer } from '../../../src/store/coalescer.js';

/** A coalescer whose runs finish only when the test says so, recording what each run was given. */
function controlled(linger?: () => number) {
  const runs: number[][] = [];
  const finish: (() => void)[] = [];
  let failNext = false;
  const c = new Coalescer<number, number>(async (inputs) => {
    runs.push(inputs);
    const fail = failNext;
    failNext = false;
    await new Promise<void>((r) => finish.push(r));
    if (fail) throw new Error('store down');
    return inputs.map((n) => n * 10);
  }, undefined, linger);
  const tick = () => new Promise((r) => setTimeout(r, 0));
  return { c, runs, finish: () => finish.shift()!(), failNextRun: () => (failNext = true), tick };
}

describe('Coalescer', () => {
  it('runs the first caller alone and everyone who came during that run together, each getting its own answer', async () => {
    const t = controlled();
    const first = t.c.submit(1);
    await t.tick();
    const later = [t.c.submit(2), t.c.submit(3), t.c.submit(4)];
    t.finish();
    expect(await first).toBe(10);
    await t.tick();
    t.finish();
    expect(await Promise.all(later)).toEqual([20, 30, 40]);
    expect(t.runs).toEqual([[1], [2, 3, 4]]);
  });

  it('fails only the callers of a failed run, and keeps serving', async () => {
    const t = controlled();
    t.failNextRun();
    const failed = t.c.submit(1);
    await t.tick();
    const next = t.c.submit(2);
    t.finish();
    await expect(failed).rejects.toThrow('store down');
    await t.tick();
    t.finish();
    expect(await next).toBe(20);
  });

  it("isolates a caller whose input fails the shared statement: the others in its run still get their answers", async () => {
    const runs: number[][] = [];
    let gate: () => void = () => {};
    const c = new Coalescer<number, number>(async (inputs) => {
      runs.push(inputs);
      if (runs.length === 1) await new Promise<void>((r) => (gate = r));
      if (inputs.includes(13)) throw new Error('invalid byte sequence');
      return inputs.map((n) => n * 10);
    });
    const first = c.submit(1);
    await new Promise((r) => setTimeout(r, 0));
    const group = [c.submit(2), c.submit(13), c.submit(4)].map((p) => p.then((v) => ({ v }), (e: Error) => ({ e: e.message })));
    gate();
    expect(await first).toBe(10);
    expect(await Promise.all(group)).toEqual([{ v: 20 }, { e: 'invalid byte sequence' }, { v: 40 }]);
    expect(runs).toEqual([[1], [2, 13, 4], [2], [13], [4]]);
  });

  it('fails the whole run at once when the store is unreachable, without retrying each caller', async () => {
    const runs: number[][] = [];
    let gate: () => void = () => {};
    const c = new Coalescer<number, number>(async (inputs) => {
      runs.push(inputs);
      if (runs.length === 1) {
        await new Promise<void>((r) => (gate = r));
        return inputs;
      }
      throw new StoreUnavailableError();
    });
    const first = c.submit(1);
    await new Promise((r) => setTimeout(r, 0));
    const group = [c.submit(2), c.submit(3)].map((p) => p.catch((e: unknown) => e));
    gate();
    await first;
    for (const outcome of await Promise.all(group)) expect(outcome).toBeInstanceOf(StoreUnavailableError);
    expect(runs).toEqual([[1], [2, 3]]);
  });

  it('re-runs callers alone only for the failures its owner says are worth it', async () => {
    const runs: number[][] = [];
    let gate: () => void = () => {};
    const c = new Coalescer<number, number>(
      async (inputs) => {
        runs.push(inputs);
        if (runs.length === 1) {
          await new Promise<void>((r) => (gate = r));
          return inputs;
        }
        throw new Error('upstream down');
      },
      () => false,
    );
    const first = c.submit(1);
    await new Promise((r) => setTimeout(r, 0));
    const group = [c.submit(2), c.submit(3)].map((p) => p.catch((e: Error) => e.message));
    gate();
    await first;
    expect(await Promise.all(group)).toEqual(['upstream down', 'upstream down']);
    expect(runs).toEqual([[1], [2, 3]]);
  });

  /**
   * Runs 1 alone for `runMs`, with 2 and 3 coming during its run; returns once run 1 has answered. Three
   * callers were waiting when it ended.
   */
  async function firstRunWithTwoComing(t: ReturnType<typeof controlled>, runMs = 200): Promise<Promise<number>[]> {
    const first = t.c.submit(1);
    await t.tick();
    const during = [t.c.submit(2), t.c.submit(3)];
    await new Promise((r) => setTimeout(r, runMs));
    t.finish();
    await first;
    await t.tick();
    return during;
  }

  it('lets a run linger for as many callers as were waiting when the last run ended, and starts it once they have come', async () => {
    const t = controlled(() => 10_000);
    const during = await firstRunWithTwoComing(t);
    expect(t.runs).toEqual([[1]]);
    const last = t.c.submit(4);
    await t.tick();
    expect(t.runs).toEqual([[1], [2, 3, 4]]);
    t.finish();
    expect(await Promise.all([...during, last])).toEqual([20, 30, 40]);
  });

  it('lingers no longer than it is allowed, then runs whoever came', async () => {
    const t = controlled(() => 20);
    const during = await firstRunWithTwoComing(t);
    expect(t.runs).toEqual([[1]]);
    await new Promise((r) => setTimeout(r, 100));
    expect(t.runs).toEqual([[1], [2, 3]]);
    t.finish();
    expect(await Promise.all(during)).toEqual([20, 30]);
  });

  it('lingers no longer than the last run took, then runs whoever came', async () => {
    const t = controlled(() => 10_000);
    const during = await firstRunWithTwoComing(t, 60);
    expect(t.runs).toEqual([[1]]);
    await new Promise((r) => setTimeout(r, 300));
    expect(t.runs).toEqual([[1], [2, 3]]);
    t.finish();
    expect(await Promise.all(during)).toEqual([20, 30]);
  });

  it('does not linger when its owner allows no wait', async () => {
    const t = controlled(() => 0);
    const during = await firstRunWithTwoComing(t);
    expect(t.runs).toEqual([[1], [2, 3]]);
    t.finish();
    expect(await Promise.all(during)).toEqual([20, 30]);
  });
});
