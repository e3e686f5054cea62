/**
 * What a consumer group may commit (DESIGN.md §5.2): per partition, the offset after the longest
 * run of settled records from the front of what was handed out, never past a record nobody
 * settled. Records settle in any order (a person may ack the second before the first); offsets may
 * have gaps (compaction, transaction markers), so the handed-out offsets themselves are kept, in
 * order, rather than assumed consecutive.
 */
export class ContiguousCommits {
  private readonly partitions = new Map<number, PartitionCommits>();

  /** A record handed out, in offset order within its partition. */
  handedOut(partition: number, offset: bigint): void {
    let state = this.partitions.get(partition);
    if (state === undefined) {
      state = { outstanding: [], settled: new Set(), committable: null };
      this.partitions.set(partition, state);
    }
    state.outstanding.push(offset);
  }

  /**
   * A record settled. Returns the partition's new commit offset when the settled front moved, else
   * null (an earlier record is still unsettled).
   */
  settle(partition: number, offset: bigint): bigint | null {
    const state = this.partitions.get(partition);
    if (state === undefined || !state.outstanding.includes(offset)) return null;
    state.settled.add(offset);
    let front: bigint | null = null;
    while (state.outstanding.length > 0 && state.settled.has(state.outstanding[0]!)) {
      front = state.outstanding.shift()!;
      state.settled.delete(front);
    }
    if (front === null) return null;
    state.committable = front + 1n;
    return state.committable;
  }

  /**
   * The partition is read again from `offset` (a seek back): records from there on were never
   * handed out as far as commits go; they come again.
   */
  rewind(partition: number, offset: bigint): void {
    const state = this.partitions.get(partition);
    if (state === undefined) return;
    state.outstanding = state.outstanding.filter((handed) => handed < offset);
    for (const settled of state.settled) if (settled >= offset) state.settled.delete(settled);
  }

  /** The partition went to another member: what was handed out here is its to commit now. */
  forget(partition: number): void {
    this.partitions.delete(partition);
  }

  /** The offset to commit per partition, for partitions where anything settled. */
  committable(): Map<number, bigint> {
    const offsets = new Map<number, bigint>();
    for (const [partition, state] of this.partitions) {
      if (state.committable !== null) offsets.set(partition, state.committable);
    }
    return offsets;
  }
}

interface PartitionCommits {
  /** Handed out and not yet part of the settled front, in offset order. */
  outstanding: bigint[];
  /** Settled, but behind an unsettled record. */
  settled: Set<bigint>;
  /** The offset after the settled front (what to commit); null until something settled. */
  committable: bigint | null;
}
