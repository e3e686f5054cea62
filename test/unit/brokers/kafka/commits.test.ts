import { describe, expect, it } from 'vitest';
import { ContiguousCommits } from '../../../../src/brokers/kafka/commits.js';

describe('ContiguousCommits', () => {
  it('commits nothing past an unsettled record, and everything once it settles', () => {
    const commits = new ContiguousCommits();
    commits.handedOut(0, 10n);
    commits.handedOut(0, 11n);
    commits.handedOut(0, 12n);
    expect(commits.settle(0, 11n)).toBeNull();
    expect(commits.settle(0, 12n)).toBeNull();
    expect(commits.committable()).toEqual(new Map());
    expect(commits.settle(0, 10n)).toBe(13n);
    expect(commits.committable()).toEqual(new Map([[0, 13n]]));
  });

  it('keeps partitions apart and follows gaps in the offsets (compaction)', () => {
    const commits = new ContiguousCommits();
    commits.handedOut(0, 5n);
    commits.handedOut(1, 0n);
    commits.handedOut(0, 9n);
    expect(commits.settle(1, 0n)).toBe(1n);
    expect(commits.settle(0, 5n)).toBe(6n);
    expect(commits.settle(0, 9n)).toBe(10n);
    expect(commits.committable()).toEqual(
      new Map([
        [0, 10n],
        [1, 1n],
      ]),
    );
  });

  it('forgets what is read again after a seek back, and a partition given away', () => {
    const commits = new ContiguousCommits();
    for (const offset of [0n, 1n, 2n]) commits.handedOut(0, offset);
    expect(commits.settle(0, 2n)).toBeNull();
    commits.rewind(0, 1n);
    // 1 and 2 come again: the settlement of 2 from before does not count.
    expect(commits.settle(0, 0n)).toBe(1n);
    commits.handedOut(0, 1n);
    commits.handedOut(0, 2n);
    expect(commits.settle(0, 2n)).toBeNull();
    expect(commits.settle(0, 1n)).toBe(3n);
    commits.forget(0);
    expect(commits.settle(0, 3n)).toBeNull();
    expect(commits.committable()).toEqual(new Map());
  });

  it('ignores a settlement of an offset it never handed out', () => {
    const commits = new ContiguousCommits();
    commits.handedOut(0, 0n);
    expect(commits.settle(0, 7n)).toBeNull();
    expect(commits.settle(3, 0n)).toBeNull();
  });
});
