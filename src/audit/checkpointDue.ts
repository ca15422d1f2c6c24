/** When a signed checkpoint is owed, decided from chain positions alone (no I/O), so any replica reaches the same answer. */

export interface CheckpointSchedule {
  /** A checkpoint every this many chain positions. */
  every: number;
  /** And at least this often while events arrive. */
  intervalSeconds: number;
}

/** The stretch of the chain one commit appended: seqs first..last, and the hash of its last event. */
export interface AppendedGroup {
  first: bigint;
  last: bigint;
  lastHash: string;
}

/**
 * Whether the commit that appended `group` owes the next checkpoint, at
 * position anchor + every, the last one being at `anchorSeq` (0 for none).
 * Exactly one commit holds that position, so replicas appending at once write
 * one checkpoint between them. Should that commit's writer die before
 * signing, or its decision come late, whichever commit reaches a second
 * `every` past the anchor takes over (and signs the position it owed).
 */
export function groupOwesCheckpoint(group: AppendedGroup, anchorSeq: bigint, every: number): boolean {
  const due = anchorSeq + BigInt(every);
  if (group.last < due) return false;
  return group.first <= due || group.last >= due + BigInt(every);
}

/**
 * Whether the head must be signed because the last checkpoint (or, with none
 * yet, the chain's first event) is older than the interval and events were
 * appended after it: a quiet period must not leave recent events unanchored.
 */
export function intervalCheckpointDue(anchor: { seq: bigint; at: Date }, headSeq: bigint, now: Date, intervalSeconds: number): boolean {
  return headSeq > anchor.seq && now.getTime() - anchor.at.getTime() >= intervalSeconds * 1000;
}
