/**
 * Whether other writers (other replicas, consent transactions) append to the
 * chain between this process's group commits. Told the positions each of its
 * groups was given, it sees whether the chain moved in between: the chain is
 * shared when most of the last WINDOW groups found it had.
 *
 * It matters because every append statement holds the chain head's lock
 * through its commit: with several writers, the chain commits statements,
 * each at much the same cost in PostgreSQL whatever its size, so each
 * statement should carry as many events as it can (see AuditLog).
 */
const WINDOW = 8;

export class ChainSharing {
  private lastSeq?: bigint;
  /** For each of the last WINDOW groups: whether the chain had moved since the one before. */
  private moved: boolean[] = [];

  /** A group of this process's was placed at positions first..last. */
  placed(first: bigint, last: bigint): void {
    if (this.lastSeq !== undefined) {
      this.moved.push(first > this.lastSeq + 1n);
      if (this.moved.length > WINDOW) this.moved.shift();
    }
    this.lastSeq = last;
  }

  shared(): boolean {
    return this.moved.filter(Boolean).length * 2 > WINDOW;
  }
}
