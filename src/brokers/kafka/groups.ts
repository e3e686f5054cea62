/**
 * Consumer groups (`mq groups`, `mq offsets reset`): listed through the admin client, with each
 * group's committed offsets against the partitions' end offsets.
 *
 * A reset commits for the group, and Kafka takes a commit only from a member of the group or, for
 * a group without members, from an admin's OffsetCommit that kafkajs does not expose. So mq joins
 * the group for a moment as its only member, checks that it is alone and holds every partition of
 * the topic, commits, leaves, and reads the offsets back. A consumer that joins before that check
 * is refused; one that joins between the check and the commit (one request) starts a rebalance
 * that fails the commit, unless kafkajs's retry of it lands in the new generation.
 */
import type { Consumer, ConsumerGroupJoinEvent, GroupDescription } from 'kafkajs';
import { MqError, RefusedError } from '../../errors.js';
import { globToRegExp } from '../matching.js';
import type {
  ConsumerGroups,
  GroupInfo,
  GroupOffset,
  LogPosition,
  OffsetResetResult,
  PartitionReset,
} from '../types.js';
import { isEphemeralGroupId } from './config.js';
import { within, type KafkaConnection, type PartitionOffsets } from './connection.js';
import { kafkaText } from './failures.js';

/** States in which a group has no members, so its offsets may be moved. */
const IDLE_STATES = new Set(['Empty', 'Dead']);

/** How long joining the group to commit may take (a first rebalance waits up to 3 s by default). */
const JOIN_TIMEOUT_MS = 30_000;

export class KafkaGroups implements ConsumerGroups {
  constructor(private readonly connection: KafkaConnection) {}

  async list(pattern?: string): Promise<GroupInfo[]> {
    const matcher = pattern === undefined ? null : globToRegExp(pattern);
    const { groups } = await this.connection.admin.listGroups().catch((error: unknown) => {
      throw this.connection.failure(error, 'listing consumer groups');
    });
    const ids = groups
      .map((g) => g.groupId)
      .filter((id) => matcher?.test(id) ?? true)
      .sort();
    if (ids.length === 0) return [];
    const descriptions = await this.connection.admin.describeGroups(ids).catch((error: unknown) => {
      throw this.connection.failure(error, 'describing consumer groups');
    });
    const byId = new Map(descriptions.groups.map((g) => [g.groupId, g]));
    const committed = await Promise.all(ids.map((id) => this.committed(id)));
    const ends = await this.endOffsets(new Set(committed.flat().map((c) => c.topic)));
    return ids.map((group, index) => {
      const description = byId.get(group);
      const offsets = committed[index]!.map(({ topic, partition, offset }): GroupOffset => {
        const end = ends.get(topic)?.get(partition);
        return {
          topic,
          partition,
          committed: offset.toString(),
          end: end === undefined ? null : end.toString(),
          lag: end === undefined ? null : Number(end - offset),
        };
      });
      const lags = offsets.flatMap((o) => (o.lag === null ? [] : [o.lag]));
      return {
        group,
        // Gone between the listing and the description: Kafka's word for a group that is no more.
        state: description?.state ?? 'Dead',
        ephemeral: isEphemeralGroupId(group),
        members: (description?.members ?? []).map((m) => ({
          clientId: m.clientId,
          host: m.clientHost,
        })),
        offsets,
        totalLag: lags.length === 0 ? null : lags.reduce((sum, lag) => sum + lag, 0),
      };
    });
  }

  async resetOffsets(
    group: string,
    topic: string,
    to: LogPosition,
    options: { execute: boolean },
  ): Promise<OffsetResetResult> {
    await this.connection.requireTopic(topic);
    // A dry run is refused too: it shows what --execute would do, and that would be a refusal.
    await this.requireNoMembers(group);
    const ranges = await this.connection.offsets(topic);
    const byTime = to.kind === 'time' ? await this.connection.offsetsAt(topic, to.timestamp) : null;
    const before = await this.committedIn(group, topic);
    const partitions = ranges.map((range): PartitionReset => {
      const { offset, clamped } = target(range, to, byTime);
      const old = before.get(range.partition);
      return {
        partition: range.partition,
        oldOffset: old === undefined ? null : old.toString(),
        newOffset: offset.toString(),
        earliestOffset: range.low.toString(),
        endOffset: range.high.toString(),
        clamped,
      };
    });
    if (!options.execute) return { group, topic, executed: false, partitions };

    const wanted = new Map(partitions.map((p) => [p.partition, BigInt(p.newOffset)]));
    await this.commitAlone(group, topic, wanted);
    const after = await this.committedIn(group, topic);
    const missed = [...wanted].filter(([partition, offset]) => after.get(partition) !== offset);
    if (missed.length > 0) {
      throw new MqError(
        `the reset of group "${group}" did not take in partition(s) ${missed.map(([p]) => p).join(', ')} of ${topic}`,
        { hint: `mq groups '${group}' shows where the group is now; run the reset again` },
      );
    }
    return { group, topic, executed: true, partitions };
  }

  /** Every partition the group has committed in, over all topics, by topic then partition. */
  private async committed(
    group: string,
  ): Promise<{ topic: string; partition: number; offset: bigint }[]> {
    const topics = await this.connection.admin
      .fetchOffsets({ groupId: group })
      .catch((error: unknown) => {
        throw this.connection.failure(error, `reading the offsets of group "${group}"`);
      });
    return topics
      .flatMap(({ topic, partitions }) =>
        partitions.map(({ partition, offset }) => ({ topic, partition, offset: BigInt(offset) })),
      )
      .filter(({ offset }) => offset >= 0n)
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  /** The group's committed offset per partition of one topic; partitions without one are absent. */
  private async committedIn(group: string, topic: string): Promise<Map<number, bigint>> {
    try {
      const [found] = await this.connection.admin.fetchOffsets({ groupId: group, topics: [topic] });
      const offsets = new Map<number, bigint>();
      for (const { partition, offset } of found?.partitions ?? []) {
        // -1: nothing committed yet.
        if (BigInt(offset) >= 0n) offsets.set(partition, BigInt(offset));
      }
      return offsets;
    } catch (error) {
      throw this.connection.failure(error, `reading the offsets of group "${group}" in ${topic}`);
    }
  }

  /** End offsets per topic and partition; a topic deleted since its offsets were committed is absent. */
  private async endOffsets(topics: Set<string>): Promise<Map<string, Map<number, bigint>>> {
    const existing = new Set(await this.connection.topicNames());
    const ends = new Map<string, Map<number, bigint>>();
    for (const topic of [...topics].filter((t) => existing.has(t))) {
      const offsets = await this.connection.offsets(topic);
      ends.set(topic, new Map(offsets.map((o) => [o.partition, o.high])));
    }
    return ends;
  }

  /** Refuses (exit 2) unless the group is known to have no members. */
  private async requireNoMembers(group: string): Promise<void> {
    const description = await this.membership(group);
    const members = description?.members ?? [];
    if (members.length > 0) {
      const who = members.map((m) => `${m.clientId} on ${m.clientHost}`).join(', ');
      throw new RefusedError(
        `group "${group}" has ${members.length} member(s) connected (${who}); nothing changed`,
        { hint: 'stop its consumers first: offsets move only while a group is empty' },
      );
    }
    if (description === undefined || !IDLE_STATES.has(description.state)) {
      throw new RefusedError(
        `cannot tell whether group "${group}" has members (state ${description?.state ?? 'unknown'}); nothing changed`,
        { hint: `wait for the group to settle, then run it again; mq groups '${group}' shows it` },
      );
    }
  }

  /** The group as its coordinator describes it; not knowing is a refusal, not a guess. */
  private async membership(group: string): Promise<GroupDescription | undefined> {
    try {
      const { groups } = await this.connection.admin.describeGroups([group]);
      return groups.find((g) => g.groupId === group);
    } catch (error) {
      throw new RefusedError(
        `cannot tell whether group "${group}" has members (${kafkaText(error)}); nothing changed`,
        { cause: error, hint: 'run it again once the broker answers; mq groups shows the group' },
      );
    }
  }

  /** Joins `group` as its only member, holding every partition of `topic`, and commits `offsets`. */
  private async commitAlone(
    group: string,
    topic: string,
    offsets: ReadonlyMap<number, bigint>,
  ): Promise<void> {
    const doing = `resetting the offsets of group "${group}"`;
    const consumer = this.connection.consumer(group);
    try {
      const joined = await this.join(consumer, topic, doing);
      const held = new Set(joined.memberAssignment[topic] ?? []);
      const description = await this.membership(group);
      const alone =
        description?.members.length === 1 && description.members[0]?.memberId === joined.memberId;
      if (!alone || [...offsets.keys()].some((partition) => !held.has(partition))) {
        throw new RefusedError(
          `another consumer joined group "${group}" during the reset; nothing changed`,
          { hint: 'stop its consumers first: offsets move only while a group is empty' },
        );
      }
      try {
        await consumer.commitOffsets(
          [...offsets].map(([partition, offset]) => ({
            topic,
            partition,
            offset: offset.toString(),
          })),
        );
      } catch (error) {
        throw this.connection.failure(error, doing);
      }
    } finally {
      await this.connection.releaseConsumer(consumer);
    }
  }

  /** Subscribes to `topic` and waits until the group has given this consumer its partitions. */
  private async join(
    consumer: Consumer,
    topic: string,
    doing: string,
  ): Promise<ConsumerGroupJoinEvent['payload']> {
    const joined = new Promise<ConsumerGroupJoinEvent['payload']>((resolve, reject) => {
      consumer.on(consumer.events.GROUP_JOIN, (event) => resolve(event.payload));
      consumer.on(consumer.events.CRASH, (event) => reject(event.payload.error));
    });
    // Nobody awaits it once connecting fails or the wait gives up: a later crash is no unhandled rejection.
    joined.catch(() => undefined);
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic] });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: () => Promise.resolve(),
      });
      const payload = await within(
        joined,
        JOIN_TIMEOUT_MS,
        () => new Error(`the group did not take mq in within ${JOIN_TIMEOUT_MS / 1000} s`),
      );
      // Only the membership is needed, not the records.
      consumer.pause([{ topic }]);
      return payload;
    } catch (error) {
      throw this.connection.failure(error, doing);
    }
  }
}

/**
 * Where `to` puts the group in one partition, kept within what the partition holds: an offset
 * outside it goes to the nearer bound (as kafka-consumer-groups.sh does), and says so.
 */
function target(
  { partition, low, high }: PartitionOffsets,
  to: LogPosition,
  byTime: ReadonlyMap<number, bigint> | null,
): { offset: bigint; clamped: boolean } {
  const clamp = (offset: bigint) => {
    const kept = offset < low ? low : offset > high ? high : offset;
    return { offset: kept, clamped: kept !== offset };
  };
  switch (to.kind) {
    case 'beginning':
      return { offset: low, clamped: false };
    case 'end':
      return { offset: high, clamped: false };
    case 'offset':
      return clamp(BigInt(to.offset));
    case 'time': {
      // kafkajs answers with the end offset when no record is that recent.
      const found = byTime?.get(partition);
      return found === undefined || found < 0n ? { offset: high, clamped: false } : clamp(found);
    }
  }
}
