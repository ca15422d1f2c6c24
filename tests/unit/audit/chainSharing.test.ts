import { describe, expect, it } from 'vitest';
import { ChainSharing } from '../../../src/audit/chainSharing.js';

/** Places `groups` groups of `size` events, with `between` events of other writers before each. */
function place(sharing: ChainSharing, from: bigint, groups: number, size: number, between: number): bigint {
  let next = from;
  for (let g = 0; g < groups; g++) {
    next += BigInt(between);
    sharing.placed(next, next + BigInt(size - 1));
    next += BigInt(size);
  }
  return next;
}

describe('ChainSharing', () => {
  it('sees a chain no one else writes to as not shared', () => {
    const sharing = new ChainSharing();
    place(sharing, 1n, 20, 5, 0);
    expect(sharing.shared()).toBe(false);
  });

  it('sees the chain as shared once most of its recent groups found other writers had appended in between', () => {
    const sharing = new ChainSharing();
    let next = place(sharing, 1n, 4, 5, 0);
    next = place(sharing, next, 4, 5, 3);
    // Four of the last eight moved: not yet most of them.
    expect(sharing.shared()).toBe(false);
    next = place(sharing, next, 1, 5, 1);
    expect(sharing.shared()).toBe(true);
    // An occasional other writer (one group in four) is not sharing.
    const occasional = new ChainSharing();
    for (let i = 0, n = 1n; i < 16; i++) n = place(occasional, n, 1, 5, i % 4 === 0 ? 2 : 0);
    expect(occasional.shared()).toBe(false);
  });

  it('sees the chain as not shared again once the other writers have stopped', () => {
    const sharing = new ChainSharing();
    const next = place(sharing, 1n, 10, 3, 2);
    expect(sharing.shared()).toBe(true);
    place(sharing, next, 5, 3, 0);
    expect(sharing.shared()).toBe(false);
  });
});
