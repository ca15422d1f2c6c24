import { createHash } from 'node:crypto';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { StoreUnavailableError } from '../errors.js';
import { migrations } from '../../migrations/index.js';
import { openEmbeddedEngine, type EmbeddedEngine, type EngineRole } from './embedded/embeddedEngine.js';

/** Anything that runs SQL: the database itself or a transaction. */
export interface Sql {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** A SQL statement the store refused (constraint, syntax, type). Carries the SQLSTATE for callers that branch on it. */
export class StoreQueryError extends Error {
  readonly sqlState: string | undefined;
  constructor(cause: unknown) {
    const driver = cause as { code?: string; message?: string };
    super(driver?.message ?? 'query failed', { cause });
    this.name = 'StoreQueryError';
    this.sqlState = driver?.code;
  }
}

export interface StoreTimeouts {
  /** A new connection, or a free pooled one. */
  connectMs: number;
  /** One statement on the server; also the client-side deadline for its answer. */
  statementMs: number;
  /** Waiting for a row or table lock. */
  lockMs: number;
}

export const DEFAULT_TIMEOUTS: StoreTimeouts = { connectMs: 5000, statementMs: 10_000, lockMs: 5000 };

/**
 * The gateway's handle on its store: one `pg` pool, whether the engine is a
 * PostgreSQL server or the embedded PGlite served by this process (or another
 * one) over the same wire protocol. One query path, one error path, one set
 * of deadlines for both.
 */
export class Database implements Sql {
  /** Statements sent to the store, BEGIN and COMMIT included: what /metrics and the benchmark report. */
  roundTrips = 0;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    readonly kind: 'postgres' | 'pglite',
    /** How TypeORM (migrations) reaches the same database. */
    private readonly connection: pg.PoolConfig,
    private readonly release: () => Promise<void> = async () => undefined,
    /** The embedded engine this process owns, if any (undefined when it talks to another process's). */
    readonly engine?: EmbeddedEngine,
  ) {}

  /** Connections of the pool by state, for /metrics. */
  poolUsage(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  /** Runs one statement. */
  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    this.roundTrips++;
    const client = await this.checkout();
    try {
      const result = await client.query({ name: this.statementName(sql, params), text: sql, values: params });
      client.release();
      return result.rows as T[];
    } catch (err) {
      throw this.failed(client, err);
    }
  }

  /** Runs `work` in one transaction; commits when it resolves, rolls back when it throws. */
  async transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
    const client = await this.checkout();
    const tx: Sql = {
      query: async <R>(sql: string, params: unknown[] = []) => {
        this.roundTrips++;
        try {
          const result = await client.query({ name: this.statementName(sql, params), text: sql, values: params });
          return result.rows as R[];
        } catch (err) {
          throw translate(err);
        }
      },
    };
    try {
      this.roundTrips++;
      await client.query('BEGIN');
      const result = await work(tx);
      this.roundTrips++;
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (err) {
      if (isConnectionFault(err)) throw this.failed(client, err);
      try {
        await client.query('ROLLBACK');
        client.release();
      } catch (rollbackErr) {
        client.release(rollbackErr as Error);
      }
      throw translate(err);
    }
  }

  /** A TypeORM data source on the same database, for migrations; the caller destroys it. */
  async migrationSource(): Promise<DataSource> {
    // TypeORM is loaded only when a migration has to run: most starts find none pending and skip its load time.
    const { DataSource } = await import('typeorm');
    const source = new DataSource({ type: 'postgres', ...typeormConnection(this.connection), migrations, synchronize: false, logging: false });
    try {
      await source.initialize();
    } catch (err) {
      throw new StoreUnavailableError(err);
    }
    return source;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.pool.end();
    } finally {
      await this.release();
    }
  }

  private async checkout(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      // Whatever stops us getting a connection (refused, timed out, database not
      // accepting connections, bad credentials) means the store is unavailable.
      throw new StoreUnavailableError(err);
    }
  }

  /** Returns a client after a failed statement: a broken connection is discarded, a healthy one reused. */
  private failed(client: pg.PoolClient, err: unknown): unknown {
    const fault = isConnectionFault(err);
    client.release(fault ? (err as Error) : undefined);
    return translate(err);
  }

  /**
   * Parameterised statements are the hot path (decision facts, the audit
   * append, score reads). On PostgreSQL they are named prepared statements,
   * parsed and planned once per connection instead of once per request. The
   * embedded engine is one session shared by every connection, where the same
   * name from two connections would collide, so there they stay unnamed.
   */
  private statementName(sql: string, params: unknown[]): string | undefined {
    if (this.kind !== 'postgres' || !params.length) return undefined;
    let name = statementNames.get(sql);
    if (!name) {
      name = `consentry_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
      statementNames.set(sql, name);
    }
    return name;
  }
}

const statementNames = new Map<string, string>();

const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown (pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57014', // query_canceled (statement_timeout)
  '55P03', // lock_not_available (lock_timeout)
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
  '53300', // too_many_connections
]);

const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'ENOENT']);

/**
 * Connection-level failures and passed deadlines become StoreUnavailableError
 * (503); statements the store refused become StoreQueryError. Anything else
 * (a domain error thrown inside a transaction) passes through unchanged.
 */
function translate(err: unknown): unknown {
  if (err instanceof StoreUnavailableError || err instanceof StoreQueryError) return err;
  if (isUnavailable(err)) return new StoreUnavailableError(err);
  if (err instanceof pg.DatabaseError) return new StoreQueryError(err);
  return err;
}

function isUnavailable(err: unknown): boolean {
  if (err instanceof pg.DatabaseError) return !!err.code && UNAVAILABLE_SQLSTATES.has(err.code);
  return isConnectionFault(err);
}

/** The connection itself is unusable: it must not go back to the pool. */
function isConnectionFault(err: unknown): boolean {
  if (err instanceof pg.DatabaseError) return !!err.code && ['57P01', '57P02', '08000', '08003', '08006'].includes(err.code);
  const e = err as { code?: string; syscall?: string; message?: string } | undefined;
  if (!e) return false;
  // Socket-level errors from the driver (Node system errors carry the failing syscall).
  if (e.code && e.syscall && UNAVAILABLE_ERRNOS.has(e.code)) return true;
  return /Connection terminated|connection is closed|Client has encountered a connection error|timeout exceeded when trying to connect|Query read timeout|Client was closed/i.test(
    e.message ?? '',
  );
}

export interface OpenOptions {
  migrate?: boolean;
  /** Embedded only: keep the database in memory (tests). */
  inMemory?: boolean;
  poolSize?: number;
  /** Embedded only: who opens the data directory (`serve` refuses to share it; commands go through its owner). */
  role?: EngineRole;
  /** Embedded only: start a fresh database from the build's image (default true). */
  fromTemplate?: boolean;
  onError?: (err: unknown) => void;
}

export type DatabaseConfig =
  | { kind: 'postgres'; url: string; poolSize?: number; connectTimeoutMs?: number; statementTimeoutMs?: number; lockTimeoutMs?: number }
  | { kind: 'pglite'; dataDir: string; statementTimeoutMs?: number };

/** Opens the store chosen by the configuration and (by default) brings its schema up to date. */
export async function openDatabase(database: DatabaseConfig, options: OpenOptions = {}): Promise<Database> {
  const timeouts: StoreTimeouts = {
    connectMs: (database.kind === 'postgres' && database.connectTimeoutMs) || DEFAULT_TIMEOUTS.connectMs,
    statementMs: database.statementTimeoutMs ?? DEFAULT_TIMEOUTS.statementMs,
    lockMs: (database.kind === 'postgres' && database.lockTimeoutMs) || DEFAULT_TIMEOUTS.lockMs,
  };
  let connection: pg.PoolConfig;
  let engine: EmbeddedEngine | undefined;
  let release: () => Promise<void> = async () => undefined;
  if (database.kind === 'postgres') {
    connection = {
      connectionString: database.url,
      max: options.poolSize ?? database.poolSize ?? 10,
      // Server-side deadlines: a statement or a lock wait past them fails (and the request with it, 503) instead of stalling.
      statement_timeout: timeouts.statementMs,
      lock_timeout: timeouts.lockMs,
    };
  } else {
    engine = await openEmbeddedEngine(options.inMemory ? undefined : database.dataDir, { role: options.role ?? 'command', fromTemplate: options.fromTemplate, onError: options.onError });
    release = () => engine!.close();
    // The embedded engine runs one statement at a time, so a few connections keep it busy.
    connection = { host: engine.socketDir, port: 5432, user: 'postgres', database: 'postgres', max: options.poolSize ?? 4 };
  }
  const pool = new pg.Pool({
    ...connection,
    connectionTimeoutMillis: timeouts.connectMs,
    // The client-side deadline also covers the embedded engine (which has no server-side timer) and a server that stopped answering.
    query_timeout: timeouts.statementMs + 1000,
    idleTimeoutMillis: 30_000,
  });
  // Every client gets an error listener from the moment it connects, idle or checked out: a backend terminated
  // under a client is reported by that client's next statement (and the client discarded), never thrown at the process.
  pool.on('connect', (client) => client.on('error', (err) => options.onError?.(err)));
  pool.on('error', (err) => options.onError?.(err));
  const db = new Database(pool, database.kind, connection, release, engine?.owned ? engine : undefined);
  try {
    if (options.migrate !== false && (database.kind === 'postgres' || engine?.owned)) await migrate(db);
    await engine?.markReady();
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return db;
}

/** Migrations not yet recorded as applied, read without loading TypeORM. */
export async function pendingMigrations(db: Sql): Promise<string[]> {
  const names = migrations.map((m) => new m().name as string);
  const [table] = await db.query<{ present: boolean }>("SELECT to_regclass('migrations') IS NOT NULL AS present");
  if (!table?.present) return names;
  const applied = new Set((await db.query<{ name: string }>('SELECT name FROM migrations')).map((r) => r.name));
  return names.filter((n) => !applied.has(n));
}

export async function migrate(db: Database): Promise<string[]> {
  if (!(await pendingMigrations(db)).length) return [];
  const source = await db.migrationSource();
  try {
    const done = await source.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  } finally {
    await source.destroy();
  }
}

export async function revertLastMigration(db: Database): Promise<void> {
  const source = await db.migrationSource();
  try {
    await source.undoLastMigration({ transaction: 'each' });
  } finally {
    await source.destroy();
  }
}

function typeormConnection(c: pg.PoolConfig): Record<string, unknown> {
  // Migrations may rewrite large tables: no statement deadline for them.
  if (c.connectionString) return { url: c.connectionString, extra: { max: 1 } };
  return { host: c.host, port: c.port, username: c.user, database: c.database, extra: { max: 1 } };
}
