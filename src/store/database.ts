import { createHash } from 'node:crypto';
import { DataSource, QueryFailedError, type EntityManager } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import { StoreUnavailableError } from '../errors.js';
import { migrations } from '../../migrations/index.js';

/** Anything that runs SQL: the database itself or a transaction's manager. */
export interface Sql {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/**
 * The gateway's handle on its store. PostgreSQL and PGlite run the same SQL;
 * the difference hidden here is that PGlite is a single in-process session, so
 * concurrent transactions would interleave on it. On PGlite every unit of work
 * therefore runs one at a time.
 */
export class Database implements Sql {
  private queue: Promise<unknown> = Promise.resolve();
  /** Statements sent to the store, BEGIN and COMMIT included: what /metrics and the benchmark report. */
  roundTrips = 0;

  constructor(
    readonly dataSource: DataSource,
    readonly kind: 'postgres' | 'pglite',
  ) {}

  /** Runs one statement. */
  query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    this.roundTrips++;
    if (this.kind === 'postgres') return translateStoreErrors(() => preparedQuery<T>(this.pool(), sql, params));
    return this.exclusive(() => rawQuery<T>(this.dataSource.manager, sql, params));
  }

  private pool(): PgPool {
    return (this.dataSource.driver as unknown as { master: PgPool }).master;
  }

  /** Runs `work` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(work: (tx: Sql, manager: EntityManager) => Promise<T>): Promise<T> {
    this.roundTrips += 2;
    return this.exclusive(() =>
      translateStoreErrors(() =>
        this.dataSource.transaction((manager) =>
          work(
            {
              query: <R>(sql: string, params: unknown[] = []) => {
                this.roundTrips++;
                return rawQuery<R>(manager, sql, params);
              },
            },
            manager,
          ),
        ),
      ),
    );
  }

  /** Whether the store answers a trivial query. */
  async isReachable(): Promise<boolean> {
    try {
      await this.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.kind === 'postgres') return work();
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

interface PgPool {
  connect(): Promise<PgClient>;
}

interface PgClient {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
  release(err?: Error | boolean): void;
}

const statementNames = new Map<string, string>();

/**
 * Parameterised statements outside transactions are the gateway's hot path
 * (decision facts, the audit append, score reads). They go to the pg pool as
 * named prepared statements: PostgreSQL parses and plans each once per
 * connection instead of once per request. Errors are wrapped as TypeORM's.
 */
async function preparedQuery<T>(pool: PgPool, sql: string, params: unknown[]): Promise<T[]> {
  let name: string | undefined;
  if (params.length) {
    name = statementNames.get(sql);
    if (!name) {
      name = `consentry_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
      statementNames.set(sql, name);
    }
  }
  let client: PgClient;
  try {
    client = await pool.connect();
  } catch (err) {
    // Whatever stops us getting a connection (refused, timed out, database not
    // accepting connections, bad credentials) means the store is unavailable.
    throw new StoreUnavailableError(err);
  }
  try {
    const { rows } = await client.query({ name, text: sql, values: params });
    client.release();
    return rows as T[];
  } catch (err) {
    const failed = new QueryFailedError(sql, params, err as Error);
    // A broken connection must not go back to the pool.
    client.release(isUnavailable(failed) ? failed : undefined);
    throw failed;
  }
}

async function rawQuery<T>(manager: EntityManager, sql: string, params: unknown[]): Promise<T[]> {
  return translateStoreErrors(async () => {
    const rows = await manager.query(sql, params);
    // pg returns [rows, count] for UPDATE/DELETE ... RETURNING; we only ever want the rows.
    if (Array.isArray(rows) && rows.length === 2 && Array.isArray(rows[0]) && typeof rows[1] === 'number') {
      return rows[0] as T[];
    }
    return rows as T[];
  });
}

const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', '53300']);

/** Connection-level failures become StoreUnavailableError; SQL errors keep their type. */
async function translateStoreErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isUnavailable(err)) throw new StoreUnavailableError(err);
    throw err;
  }
}

function isUnavailable(err: unknown): boolean {
  const e = (err instanceof QueryFailedError ? err.driverError : err) as { code?: string; message?: string } | undefined;
  if (!e) return false;
  if (e.code && UNAVAILABLE_SQLSTATES.has(e.code)) return true;
  if (e.code && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND'].includes(e.code)) return true;
  const m = e.message ?? '';
  return /Connection terminated|connection is closed|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(m);
}

export interface OpenOptions {
  migrate?: boolean;
  /** PGlite only: keep the database in memory (tests). */
  inMemory?: boolean;
  poolSize?: number;
}

/** Opens the store chosen by the configuration and (by default) brings its schema up to date. */
export async function openDatabase(
  database: { kind: 'postgres'; url: string; poolSize?: number; connectTimeoutMs?: number } | { kind: 'pglite'; dataDir: string },
  options: OpenOptions = {},
): Promise<Database> {
  let dataSource: DataSource;
  if (database.kind === 'postgres') {
    dataSource = new DataSource({
      type: 'postgres',
      url: database.url,
      migrations,
      migrationsRun: false,
      synchronize: false,
      logging: false,
      extra: {
        max: options.poolSize ?? database.poolSize ?? 10,
        // Bounds both a new connection and the wait for a free one; past it the request fails closed (503).
        connectionTimeoutMillis: database.connectTimeoutMs ?? 5000,
      },
    });
  } else {
    const dataDir = options.inMemory ? undefined : database.dataDir;
    if (dataDir) {
      const { mkdirSync } = await import('node:fs');
      mkdirSync(dataDir, { recursive: true });
    }
    dataSource = new DataSource({
      type: 'postgres',
      driver: new PGliteDriver(dataDir ? { dataDir } : {}).driver,
      migrations,
      synchronize: false,
      logging: false,
    });
  }
  try {
    await dataSource.initialize();
  } catch (err) {
    throw new StoreUnavailableError(err);
  }
  const db = new Database(dataSource, database.kind);
  if (options.migrate !== false) await migrate(db);
  return db;
}

export async function migrate(db: Database): Promise<string[]> {
  const done = await db.dataSource.runMigrations({ transaction: 'each' });
  return done.map((m) => m.name);
}

export async function revertLastMigration(db: Database): Promise<void> {
  await db.dataSource.undoLastMigration({ transaction: 'each' });
}
