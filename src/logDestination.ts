import sonicBoom from 'sonic-boom';

// CommonJS: the default import is the class, which also carries itself under the name its types give it.
const { SonicBoom } = sonicBoom;

/**
 * Log output a slow reader may leave pending. Past it, lines are dropped and
 * counted: a stuck log shipper must not grow the gateway's memory until it dies.
 */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;
/** How long an exiting process keeps offering its last lines to a reader that takes none of them. */
const EXIT_STALL_MS = 1000;
/** How long an exiting process offers its last lines to a reader that takes them, but slowly. */
const EXIT_FLUSH_MAX_MS = 10_000;

export interface LogDestination {
  write(line: string): void;
  /**
   * Resolves once every line written so far has reached the reader, or the
   * reader has taken nothing for a second, or after ten seconds in all. A
   * process that exits on purpose awaits it first: the exit itself can only
   * flush what no write is carrying at that moment.
   */
  drain(): Promise<void>;
  /** Lines lost so far: dropped while the reader was too slow, or written after it went away. */
  droppedLines(): number;
}

/**
 * Where the logs go: stdout, usually a pipe into a log shipper, which may
 * stop reading or exit. Writes are asynchronous (sonic-boom, as pino's own
 * default); a reader that has gone stops the writing, not the process; and on
 * exit the last lines are flushed while the reader takes them, giving up after
 * a second without progress or ten in all, so a SIGTERM always ends the
 * process. With pino's default destination a gateway whose reader had
 * stopped reading could not be stopped: its final flush blocked on the full
 * pipe, or, once the reader had exited, retried the broken one for ever.
 */
function createStdoutDestination(): LogDestination {
  // Opening process.stdout puts a pipe on fd 1 into non-blocking mode, as libuv does for every pipe it opens. A write
  // to a full pipe then fails with EAGAIN and is retried later, instead of blocking a thread (at exit, the process)
  // until the reader reads. Files are unaffected: writing to them does not wait on anyone.
  void process.stdout;
  let gone = false;
  let dropped = 0;
  /** Set on exit: when the exit began, and when the reader last took something, with what was pending then. */
  let exiting: { startedAt: number; progressAt: number; pending: number } | undefined;
  const sonic = new SonicBoom({
    fd: 1,
    sync: false,
    maxLength: MAX_PENDING_BYTES,
    // A full pipe is waited out while the process runs. On exit, for as long as the reader keeps taking lines (a
    // busy log shipper, or one on a loaded machine, is slow, not gone), within an overall bound.
    retryEAGAIN: (_err: Error, writing: number, queued: number) => {
      if (!exiting) return true;
      const now = Date.now();
      if (writing + queued < exiting.pending) Object.assign(exiting, { progressAt: now, pending: writing + queued });
      return now - exiting.progressAt < EXIT_STALL_MS && now - exiting.startedAt < EXIT_FLUSH_MAX_MS;
    },
  });
  sonic.on('drop', () => dropped++);
  // EPIPE (the reader exited) or any other write error: nothing more can reach the reader.
  sonic.on('error', () => {
    gone = true;
  });
  // The last resort, for exits that did not drain first. A write in flight on libuv's thread pool at this moment is
  // not this flush's to repeat, and if the pipe was full it is lost with the process: hence drain().
  process.once('exit', () => {
    if (gone) return;
    exiting = { startedAt: Date.now(), progressAt: Date.now(), pending: Infinity };
    try {
      sonic.flushSync();
    } catch {
      // The reader went away or did not read in time: those lines are lost, the exit is not held.
    }
  });
  return {
    write(line) {
      if (gone) dropped++;
      else sonic.write(line);
    },
    drain: () =>
      new Promise<void>((done) => {
        if (gone) return done();
        let stalled: NodeJS.Timeout | undefined;
        const progress = () => {
          clearTimeout(stalled);
          stalled = setTimeout(finish, EXIT_STALL_MS);
        };
        const overall = setTimeout(finish, EXIT_FLUSH_MAX_MS);
        function finish() {
          clearTimeout(stalled);
          clearTimeout(overall);
          sonic.off('write', progress);
          done();
        }
        progress();
        sonic.on('write', progress);
        sonic.flush(() => finish());
      }),
    droppedLines: () => dropped,
  };
}

let stdout: LogDestination | undefined;

/** Drains the stdout destination, if the process made one (see LogDestination.drain). */
export function drainStdoutLog(): Promise<void> {
  return stdout?.drain() ?? Promise.resolve();
}

/** The process's one stdout destination, shared by every logger it makes. */
export function stdoutLogDestination(): LogDestination {
  stdout ??= createStdoutDestination();
  return stdout;
}
