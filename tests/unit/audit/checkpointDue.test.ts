import { describe, expect, it } from 'vitest';
import { groupOwesCheckpoint, intervalCheckpointDue } from '../../../src/audit/checkpointDue.js';

const group = (first: number, last: number) => ({ first: BigInt(first), last: BigInt(last), lastHash: 'h' });

describe('groupOwesCheckpoint (every 10)', () => {
  it.each([
    ['short of the position', 0, [5, 9], false],
    ['ending on it', 0, [9, 10], true],
    ['spanning it', 0, [8, 12], true],
    ['one group wider than every', 0, [1, 25], true],
    ['after the group that held it', 0, [11, 12], false],
    ['counted from the last checkpoint', 12, [21, 22], true],
    ['behind the last checkpoint', 12, [3, 4], false],
    ['a second every past, the first owner having failed', 0, [20, 20], true],
  ])('%s: anchor %i, group %j → %s', (_name, anchor, [first, last], owes) => {
    expect(groupOwesCheckpoint(group(first!, last!), BigInt(anchor), 10)).toBe(owes);
  });

  it('gives the position to exactly one of consecutive groups short of a second every', () => {
    const sizes = [3, 1, 4, 1, 5, 2, 3];
    let first = 1;
    const owing = sizes.map((n) => {
      const g = group(first, first + n - 1);
      first += n;
      return groupOwesCheckpoint(g, 0n, 10);
    });
    expect(owing.filter(Boolean)).toHaveLength(1);
  });
});

describe('intervalCheckpointDue (300 s)', () => {
  const at = new Date('2026-03-01T09:00:00.000Z');
  const later = (s: number) => new Date(at.getTime() + s * 1000);
  it.each([
    ['old checkpoint, events after it', 10, 11, 300, true],
    ['old checkpoint, nothing after it', 10, 10, 3600, false],
    ['recent checkpoint, events after it', 10, 50, 299, false],
  ])('%s', (_name, anchor, head, age, due) => {
    expect(intervalCheckpointDue({ seq: BigInt(anchor), at }, BigInt(head), later(age), 300)).toBe(due);
  });
});
