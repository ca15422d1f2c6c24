import { existsSync, unlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { StoreUnavailableError } from '../../errors.js';
import { copyEngineTemplate, loadEngineTemplate } from './engineTemplate.js';
import { OwnerLock, type OwnerRecord } from './ownerLock.js';
import { EngineWireServer } from './wireServer.js';

/** `serve` owns a data directory for its lifetime and never shares it with a second server; a `command` uses whoever owns it. */
export type EngineRole = 'serve' | 'command';

export interface EmbeddedEngine {
  /** Where the engine's `.s.PGSQL.5432` socket is (connect with host = this directory, port 5432). */
  socketDir: string;
  /** True when this process holds the engine; false when it reaches another process's. */
  owned: boolean;
  /** The process this one reaches the engine through, when it does not own it. */
  owner?: OwnerRecord;
  /** Tells waiting commands the database is open and migrated. */
  markReady(): Promise<void>;
  /** The owned engine's files as a gzipped tarball (the build's template image). */
  dump(): Promise<Blob>;
  close(): Promise<void>;
}

/** A second `serve` on a directory another one serves. */
export class DataDirInUseError extends Error {
  readonly code = 'DATA_DIR_IN_USE';
  constructor(dataDir: string, owner: OwnerRecord) {
    super(
      `The embedded database in ${dataDir} is already open by process ${owner.pid} (consentry ${owner.command}, since ${owner.startedAt}). ` +
        'Stop that process first, or give this one its own directory with CONSENTRY_DATA_DIR=<dir> (or a PostgreSQL database with DATABASE_URL=postgres://...). ' +
        'Commands such as `consentry partner create` need no second server: they reach the running one.',
    );
    this.name = 'DataDirInUseError';
  }
}

const SOCKET_FILE = '.s.PGSQL.5432';
/** sun_path holds 108 bytes on Linux (104 on macOS); stay below both. */
const MAX_SOCKET_PATH = 100;
/** How long a second `serve` waits for a short command that holds the directory to finish. */
const SERVE_WAITS_FOR_COMMAND_MS = 30_000;

/**
 * Opens the embedded engine of `dataDir` (or a private in-memory one when
 * `dataDir` is undefined). The first process to open a directory owns it and
 * serves it on a Unix socket; any other process gets that socket instead of
 * opening the files a second time.
 */
export interface EngineOptions {
  role: EngineRole;
  /** Start a fresh database from the build's image (default); false runs initdb (how the image itself is made). */
  fromTemplate?: boolean;
  onError?: (err: unknown) => void;
}

export async function openEmbeddedEngine(dataDir: string | undefined, options: EngineOptions): Promise<EmbeddedEngine> {
  if (!dataDir) return startEngine(undefined, await mkdtemp(join(tmpdir(), 'consentry-')), undefined, options);

  const dir = resolve(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const socketDir = join(dir, SOCKET_FILE).length <= MAX_SOCKET_PATH ? dir : await mkdtemp(join(tmpdir(), 'consentry-'));
  const privateSocketDir = socketDir !== dir;
  const command = options.role === 'serve' ? 'serve' : (process.argv.slice(2, 4).join(' ') || 'command');
  const waitUntil = Date.now() + SERVE_WAITS_FOR_COMMAND_MS;
  for (;;) {
    const outcome = await OwnerLock.acquire(dir, { command, socketDir });
    if ('owned' in outcome) {
      try {
        return await startEngine(dir, socketDir, outcome.owned, options);
      } catch (err) {
        await outcome.owned.release();
        throw err;
      }
    }
    const { owner } = outcome;
    if (options.role === 'serve') {
      if (owner.command === 'serve' || Date.now() > waitUntil) {
        if (privateSocketDir) await rm(socketDir, { recursive: true, force: true });
        throw new DataDirInUseError(dir, owner);
      }
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    if (privateSocketDir) await rm(socketDir, { recursive: true, force: true });
    return {
      socketDir: owner.socketDir,
      owned: false,
      owner,
      markReady: async () => undefined,
      dump: () => Promise.reject(new Error('only the owning process can dump the engine')),
      close: async () => undefined,
    };
  }
}

async function startEngine(dataDir: string | undefined, socketDir: string, lock: OwnerLock | undefined, options: EngineOptions): Promise<EmbeddedEngine> {
  let engine: PGlite;
  try {
    const fresh = !dataDir || !existsSync(join(dataDir, 'PG_VERSION'));
    // A fresh database starts from a migrated image made at build time instead of running initdb (seconds of WebAssembly).
    const fromTemplate = fresh && options.fromTemplate !== false;
    const copied = fromTemplate && !!dataDir && (await copyEngineTemplate(dataDir));
    const template = fromTemplate && !copied ? await loadEngineTemplate() : undefined;
    engine = await PGlite.create({ ...(dataDir ? { dataDir } : {}), ...(template ? { loadDataDir: template } : {}) });
  } catch (err) {
    throw new StoreUnavailableError(err);
  }
  const socketPath = join(socketDir, SOCKET_FILE);
  const server = new EngineWireServer(engine, socketPath, { onError: options.onError });
  try {
    await server.listen();
  } catch (err) {
    await engine.close().catch(() => undefined);
    throw new StoreUnavailableError(err);
  }
  // A crash or process.exit() skips close(): leave no lock that claims a live owner and no socket to a dead one.
  const onExit = () => {
    lock?.releaseSync();
    try {
      unlinkSync(socketPath);
    } catch {
      // Already removed.
    }
  };
  process.on('exit', onExit);
  let closing: Promise<void> | undefined;
  return {
    socketDir,
    owned: true,
    markReady: async () => lock?.markReady(),
    dump: async () => {
      await engine.exec('CHECKPOINT');
      return engine.dumpDataDir('gzip');
    },
    close: () =>
      (closing ??= (async () => {
        try {
          await server.close();
          await engine.close();
        } finally {
          process.off('exit', onExit);
          await lock?.release();
          if (socketDir !== dataDir) await rm(socketDir, { recursive: true, force: true });
        }
      })()),
  };
}
