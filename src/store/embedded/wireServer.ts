import { chmod, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

/**
 * Serves an embedded PGlite engine over the PostgreSQL wire protocol on a Unix
 * socket, so the gateway, the CLI and any `pg` client share it exactly as they
 * would share a PostgreSQL server.
 *
 * PGlite is one session: statements from different connections run on the
 * same backend. Connections therefore take turns by *unit of work*: a
 * connection holds the engine from its first message until the engine is idle
 * again (a Sync or simple Query answered outside a transaction block). An
 * extended-protocol exchange or an explicit transaction can never interleave
 * with another connection's, which a per-message queue would allow.
 */
export interface WireServerOptions {
  /** A connection that keeps the engine inside a transaction this long without sending anything is cut (its work rolled back). */
  idleInTransactionMs?: number;
  onError?: (err: unknown) => void;
}

const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;
const GSS_REQUEST = 80877104;
const PROTOCOL_3 = 196608;
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);
const TYPE_QUERY = 0x51; // 'Q'
const TYPE_SYNC = 0x53; // 'S'
const TYPE_TERMINATE = 0x58; // 'X'

export class EngineWireServer {
  private readonly server: Server;
  private readonly sessions = new Set<WireSession>();
  private holder: WireSession | undefined;
  private readonly waiting: WireSession[] = [];
  private closed = false;

  constructor(
    readonly engine: PGlite,
    readonly socketPath: string,
    private readonly options: WireServerOptions = {},
  ) {
    this.server = createServer((socket) => this.accept(socket));
    this.server.on('error', (err) => options.onError?.(err));
  }

  async listen(): Promise<void> {
    // The socket path belongs to whoever holds the data directory's lock; a file left there by a killed owner is stale.
    await unlink(this.socketPath).catch(() => undefined);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.socketPath, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    // Only the owner's OS account may talk to the database (PGlite has no authentication of its own).
    await chmod(this.socketPath, 0o600);
  }

  /** Stops accepting, cuts every connection (rolling back any open transaction) and removes the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of [...this.sessions]) session.socket.destroy();
    await stopped;
    await this.idle();
    await unlink(this.socketPath).catch(() => undefined);
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const session = new WireSession(this, socket, this.options.idleInTransactionMs ?? 30_000);
    this.sessions.add(session);
    socket.on('close', () => {
      this.sessions.delete(session);
      void this.abandon(session);
    });
  }

  /** Waits for the engine; returns at once when `session` already holds it. */
  acquire(session: WireSession): Promise<void> {
    if (!this.holder) {
      this.holder = session;
      return Promise.resolve();
    }
    if (this.holder === session) return Promise.resolve();
    return new Promise((resolve) => {
      session.wake = resolve;
      this.waiting.push(session);
    });
  }

  release(session: WireSession): void {
    if (this.holder !== session) return;
    const next = this.waiting.shift();
    this.holder = next;
    if (next) next.wake?.();
  }

  /** A connection went away: forget its place in line, and undo whatever it left open on the engine. */
  private async abandon(session: WireSession): Promise<void> {
    const queued = this.waiting.indexOf(session);
    if (queued >= 0) {
      this.waiting.splice(queued, 1);
      // Let its pending batch see the closed socket and stop.
      session.wake?.();
    }
    if (this.holder !== session) return;
    await session.settled;
    try {
      if (!this.engine.closed) {
        // End an unfinished extended-protocol exchange, then roll back an open transaction block.
        await this.engine.runExclusive(() => this.engine.execProtocolRaw(SYNC));
        // exec takes the engine's mutex itself.
        if (this.engine.isInTransaction()) await this.engine.exec('ROLLBACK');
      }
    } catch (err) {
      this.options.onError?.(err);
    } finally {
      this.release(session);
    }
  }

  private async idle(): Promise<void> {
    while (this.holder) await new Promise((r) => setTimeout(r, 5));
  }
}

/** One client connection: splits the byte stream into protocol messages and runs them as units of work. */
class WireSession {
  private buffer = Buffer.alloc(0);
  private started = false;
  private running = false;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Resolves when the batch in flight (if any) has been answered. */
  settled: Promise<void> = Promise.resolve();
  wake: (() => void) | undefined;

  constructor(
    private readonly server: EngineWireServer,
    readonly socket: Socket,
    private readonly idleInTransactionMs: number,
  ) {
    socket.on('data', (data) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, data]) : data;
      void this.pump();
    });
    // A client vanishing mid-write is normal; 'close' follows and cleans up.
    socket.on('error', () => undefined);
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    let done!: () => void;
    this.settled = new Promise((r) => (done = r));
    try {
      for (;;) {
        const batch = this.takeMessages();
        if (!batch) break;
        await this.run(batch);
        if (this.socket.destroyed) break;
      }
    } catch (err) {
      this.socket.destroy(err as Error);
    } finally {
      this.running = false;
      done();
    }
  }

  /** The complete messages buffered so far, or the startup packet on its own; undefined when none is complete. */
  private takeMessages(): { bytes: Buffer; startup: boolean; endsUnit: boolean; terminate: boolean } | undefined {
    if (!this.started) {
      if (this.buffer.length < 8) return undefined;
      const length = this.buffer.readInt32BE(0);
      const code = this.buffer.readInt32BE(4);
      if (length === 8 && (code === SSL_REQUEST || code === GSS_REQUEST)) {
        // No TLS on a local socket: answer "not supported" and read the real startup packet next.
        this.buffer = this.buffer.subarray(8);
        this.socket.write('N');
        return this.takeMessages();
      }
      if (length === 16 && code === CANCEL_REQUEST) {
        // One engine, one session: there is no backend to signal. The client's own deadline ends its wait.
        this.socket.end();
        return undefined;
      }
      if (code !== PROTOCOL_3 || length < 8 || length > 10_000) throw new Error('unsupported startup packet');
      if (this.buffer.length < length) return undefined;
      const bytes = this.buffer.subarray(0, length);
      this.buffer = this.buffer.subarray(length);
      this.started = true;
      return { bytes, startup: true, endsUnit: true, terminate: false };
    }
    let offset = 0;
    let lastType = 0;
    while (this.buffer.length - offset >= 5) {
      const length = this.buffer.readInt32BE(offset + 1);
      if (length < 4) throw new Error('malformed protocol message');
      if (this.buffer.length - offset < 1 + length) break;
      lastType = this.buffer[offset]!;
      offset += 1 + length;
      if (lastType === TYPE_TERMINATE) break;
    }
    if (offset === 0) return undefined;
    const bytes = this.buffer.subarray(0, offset);
    this.buffer = this.buffer.subarray(offset);
    return {
      bytes,
      startup: false,
      endsUnit: lastType === TYPE_SYNC || lastType === TYPE_QUERY,
      terminate: lastType === TYPE_TERMINATE,
    };
  }

  private async run(batch: { bytes: Buffer; startup: boolean; endsUnit: boolean; terminate: boolean }): Promise<void> {
    const { engine } = this.server;
    this.stopIdleTimer();
    let bytes = batch.bytes;
    if (batch.terminate) {
      // PGlite ignores Terminate; run whatever preceded it, then hang up (the close handler rolls back).
      bytes = bytes.subarray(0, bytes.length - 5);
    }
    if (bytes.length) {
      await this.server.acquire(this);
      if (this.socket.destroyed) return;
      const answer = await engine.runExclusive(() => engine.execProtocolRaw(new Uint8Array(bytes)));
      if (answer.length && this.socket.writable) this.socket.write(answer);
      if (batch.endsUnit && !engine.isInTransaction()) this.server.release(this);
      else this.startIdleTimer();
    }
    if (batch.terminate) this.socket.end();
  }

  /** Holding the one engine inside a transaction blocks every other client; a silent holder is cut off. */
  private startIdleTimer(): void {
    this.idleTimer = setTimeout(() => this.socket.destroy(), this.idleInTransactionMs);
    this.idleTimer.unref();
  }

  private stopIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }
}
