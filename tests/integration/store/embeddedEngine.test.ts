import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../../migrations/index.js';
import { openEmbeddedEngine, type EmbeddedEngine } from '../../../src/store/embedded/embeddedEngine.js';
import { LOCK_FILE, OwnerLock, type OwnerRecord } from '../../../src/store/embedded/ownerLock.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the embedded engine served over the wire protocol', () => {
  let engine: EmbeddedEngine;
  const clients: pg.Client[] = [];
  const connect = async () => {
    const c = new pg.Client({ host: engine.socketDir, port: 5432, user: 'postgres', database: 'postgres' });
    c.on('error', () => undefined);
    await c.connect();
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    engine = await openEmbeddedEngine(undefined, { role: 'command' });
    const c = await connect();
    await c.query('CREATE TABLE t (x int)');
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await engine.close();
  });

  it("runs another connection's statement only after an open transaction ends, never inside it", async () => {
    const [a, b] = [await connect(), await connect()];
    await a.query('BEGIN');
    await a.query('INSERT INTO t VALUES ($1)', [1]);
    let seen: number | undefined;
    const counted = b.query<{ n: number }>('SELECT count(*)::int AS n FROM t').then((r) => (seen = r.rows[0]!.n));
    await sleep(200);
    expect(seen).toBeUndefined();
    await a.query('ROLLBACK');
    await counted;
    expect(seen).toBe(0);
  });

  it('interleaves parameterised statements of many connections without mixing them up', async () => {
    const conns = await Promise.all([connect(), connect(), connect()]);
    const results = await Promise.all(
      conns.map(async (c, k) => {
        const answers: number[] = [];
        for (let i = 0; i < 20; i++) answers.push((await c.query<{ v: number }>('SELECT $1::int * 2 AS v', [k * 100 + i])).rows[0]!.v);
        return answers;
      }),
    );
    expect(results).toEqual([0, 1, 2].map((k) => Array.from({ length: 20 }, (_, i) => (k * 100 + i) * 2)));
  });

  it('rolls back the open transaction of a connection that vanished, and lets the others go on', async () => {
    const [a, b] = [await connect(), await connect()];
    await a.query('BEGIN');
    await a.query('INSERT INTO t VALUES (2)');
    (a as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const { rows } = await b.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
    expect(rows[0]!.n).toBe(0);
  });
});

describe('the data directory lock', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'consentry-lock-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const claim = { command: 'test', socketDir: '/nowhere' };
  const deadOwner = (): OwnerRecord => ({ pid: 2 ** 22 - 3, command: 'serve', socketDir: '/gone', startedAt: '2026-01-01T00:00:00Z', ready: true });

  it('is held by the first taker; a later one finds the live owner', async () => {
    const first = await OwnerLock.acquire(join(dir), claim);
    expect('owned' in first).toBe(true);
    const second = await OwnerLock.acquire(join(dir), claim, 0);
    expect(second).toEqual({ owner: expect.objectContaining({ pid: process.pid, command: 'test', ready: false }) });
    if ('owned' in first) await first.owned.release();
  });

  it('taken over from a dead process by exactly one of several competitors', async () => {
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(deadOwner()));
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => OwnerLock.acquire(dir, claim, 0)));
    const owners = outcomes.filter((o) => 'owned' in o);
    expect(owners).toHaveLength(1);
    expect(outcomes.filter((o) => 'owner' in o)).toHaveLength(5);
    for (const o of owners) if ('owned' in o) await o.owned.release();
  });

  it('treats a live pid with a different start time as a reused pid, not an owner', async () => {
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ ...deadOwner(), pid: process.pid, pidStartedAt: '1' }));
    const outcome = await OwnerLock.acquire(dir, claim, 0);
    expect('owned' in outcome).toBe(true);
    if ('owned' in outcome) await outcome.owned.release();
  });
});

describe('a fresh data directory', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  async function migrationsIn(dataDir: string): Promise<string[]> {
    const engine = await openEmbeddedEngine(dataDir, { role: 'command' });
    const c = new pg.Client({ host: engine.socketDir, port: 5432, user: 'postgres', database: 'postgres' });
    try {
      await c.connect();
      return (await c.query<{ name: string }>('SELECT name FROM migrations ORDER BY id')).rows.map((r) => r.name);
    } finally {
      await c.end().catch(() => undefined);
      await engine.close();
    }
  }

  it('starts from the migrated image the build made, and opens again afterwards with its data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'consentry-fresh-'));
    dirs.push(dir);
    const expected = migrations.map((m) => new m().name);
    expect(await migrationsIn(dir)).toEqual(expected);
    expect(await migrationsIn(dir)).toEqual(expected);
  });

  it('copied only in part (no version file yet, a start cut short) is copied over again, not taken for a database', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'consentry-fresh-'));
    dirs.push(dir);
    await mkdir(join(dir, 'base', '1'), { recursive: true });
    await writeFile(join(dir, 'base', '1', 'PG_VERSION'), 'half a copy');
    await writeFile(join(dir, 'postgresql.conf'), '# half a copy\n');
    expect(await migrationsIn(dir)).toEqual(migrations.map((m) => new m().name));
  });
});
