import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../fixtures/build.js';

const DESTINATION = resolve('dist/src/logDestination.js');

interface Writer {
  stdoutLines(): string[];
  /** What the writer reported on stderr before it exited: its count of dropped lines. */
  report: Promise<{ code: number | null; dropped: number; ms: number }>;
  /** Once everything the writer's stdout carried has been read (the exit can come first). */
  drained: Promise<void>;
  resume(): void;
  pause(): void;
}

/**
 * A real process that writes `lines` log lines of about 200 bytes through the
 * stdout destination, then drains it and exits with process.exit (as serve
 * does), reporting how many it dropped. Its stdout is read only when `read` is true.
 */
function writer(lines: number, read: boolean): Writer {
  const script = `
    const { stdoutLogDestination } = await import(${JSON.stringify(DESTINATION)});
    const out = stdoutLogDestination();
    const pad = 'x'.repeat(180);
    for (let i = 0; i < ${lines}; i++) out.write(JSON.stringify({ i, pad }) + '\\n');
    const started = Date.now();
    process.on('exit', () => process.stderr.write(JSON.stringify({ dropped: out.droppedLines(), exitMs: Date.now() - started })));
    setTimeout(async () => {
      await out.drain();
      process.exit(0);
    }, 50);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => (stdout += d));
  if (!read) child.stdout.pause();
  const startedAt = Date.now();
  const report = new Promise<{ code: number | null; dropped: number; ms: number }>((done) =>
    child.on('exit', (code) => {
      const parsed = JSON.parse(stderr || '{"dropped":-1}') as { dropped: number };
      done({ code, dropped: parsed.dropped, ms: Date.now() - startedAt });
    }),
  );
  const drained = new Promise<void>((done) => child.on('close', () => done()));
  return { stdoutLines: () => stdout.split('\n').filter(Boolean), report, drained, resume: () => child.stdout.resume(), pause: () => child.stdout.pause() };
}

describe('the log destination on stdout', () => {
  beforeAll(async () => {
    await ensureBuilt();
  }, 300_000);

  it('a reader that reads gets every line, the last ones drained before the process exits', async () => {
    const w = writer(20_000, true);
    const { code, dropped } = await w.report;
    expect(code).toBe(0);
    expect(dropped).toBe(0);
    await w.drained;
    const lines = w.stdoutLines();
    expect(lines).toHaveLength(20_000);
    expect((JSON.parse(lines.at(-1)!) as { i: number }).i).toBe(19_999);
  }, 60_000);

  it('a reader that reads slowly still gets every line, though the last ones take it more than a second', async () => {
    const w = writer(10_000, true);
    // A log shipper on a busy machine: it takes what is in the pipe now and then, and never stops for long.
    const pace = setInterval(() => {
      w.resume();
      setTimeout(() => w.pause(), 5);
    }, 300);
    w.pause();
    const { code, dropped, ms } = await w.report.finally(() => clearInterval(pace));
    w.resume();
    await w.drained;
    const lines = w.stdoutLines();
    expect({ code, dropped, lines: lines.length, last: (JSON.parse(lines.at(-1)!) as { i: number }).i }).toEqual({ code: 0, dropped: 0, lines: 10_000, last: 9_999 });
    // Longer than the one second a reader used to get, after which such a reader lost the last lines.
    expect(ms).toBeGreaterThan(1_200);
  }, 60_000);

  it('a reader that does not read: the writer keeps a bounded backlog, drops whole lines past it, and still exits', async () => {
    // About 20 MB of lines: more than the pipe and the destination's backlog together hold.
    const w = writer(100_000, false);
    const { code, dropped, ms } = await w.report;
    expect(code).toBe(0);
    expect(dropped).toBeGreaterThan(30_000);
    expect(dropped).toBeLessThan(100_000);
    // The exit gave up on the reader after its deadline, not never.
    expect(ms).toBeLessThan(10_000);
    // What did get through is whole lines, in order.
    w.resume();
    await new Promise((r) => setTimeout(r, 200));
    const lines = w.stdoutLines();
    expect(lines.length).toBeGreaterThan(0);
    const seen = lines.slice(0, -1).map((l) => (JSON.parse(l) as { i: number }).i);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  }, 60_000);
});
