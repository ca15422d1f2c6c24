import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../fixtures/build.js';
import { startServe, type ServeProcess } from '../../fixtures/serveProcess.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The gateway's logs go to stdout, usually a pipe into a log shipper. When
 * that reader dies, the gateway keeps serving and still stops on SIGTERM:
 * lines it cannot write are lost, the process is not.
 */
describe('a gateway whose log reader has gone', () => {
  let dir: string;
  let gateway: ServeProcess | undefined;

  beforeAll(async () => {
    await ensureBuilt();
  }, 300_000);

  afterEach(async () => {
    await gateway?.stop('SIGKILL');
    gateway = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function start(): Promise<ServeProcess> {
    dir = await mkdtemp(join(tmpdir(), 'consentry-logpipe-'));
    // Every request is logged at info: a line per request.
    return startServe({ CONSENTRY_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'info' });
  }

  /** Requests that are refused (and logged) until the pipe behind stdout is full many times over. */
  async function logALot(url: string): Promise<void> {
    const refused = async () => {
      for (let i = 0; i < 250; i++) {
        const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        expect(res.status).toBe(401);
        await res.arrayBuffer();
      }
    };
    await Promise.all([refused(), refused(), refused(), refused()]);
  }

  /** The exit code, or 'still running' when it has not exited within the time. */
  async function exitWithin(process: ServeProcess, ms: number): Promise<number | string | null> {
    return Promise.race([process.exited, sleep(ms).then(() => 'still running')]);
  }

  /** What every case asks: it still answers, and SIGTERM ends it, drained. */
  async function expectServingThenStopping(process: ServeProcess): Promise<void> {
    expect((await fetch(`${process.url}/healthz`)).status).toBe(200);
    process.child.kill('SIGTERM');
    expect(await exitWithin(process, 15_000)).toBe(0);
  }

  /** What the log shipper on the other end of stdout does while the gateway logs a request per line. */
  const readers: [string, (gateway: ServeProcess) => Promise<void>][] = [
    ['stops reading', async (g) => {
      g.child.stdout!.pause();
      await logALot(g.url);
    }],
    ['stops reading and then exits', async (g) => {
      g.child.stdout!.pause();
      await logALot(g.url);
      g.child.stdout!.destroy();
      await sleep(100);
    }],
    ['has exited', async (g) => {
      g.child.stdout!.destroy();
      await logALot(g.url);
    }],
  ];

  it.each(readers)('a reader that %s: the gateway goes on serving, and stops on SIGTERM', async (_, reader) => {
    gateway = await start();
    await reader(gateway);
    await expectServingThenStopping(gateway);
  }, 120_000);
});
