/**
 * `mq topology plan|apply` on Kafka: the project file's topics and their dead-letter topics. The
 * exchanges, queues and bindings of the same file belong to the queue brokers and are left out. An
 * existing topic with other partitions or retention is a conflict: apply changes nothing then.
 */
import type { TopologySnapshot } from '../../config/topology-export.js';
import type { Topology, TopicDeclaration } from '../../config/topology.js';
import { RefusedError } from '../../errors.js';
import { change, describeConflicts } from '../topology-plan.js';
import type { TopologyChange, TopologyManagement } from '../types.js';
import type { KafkaConnection } from './connection.js';
import type { KafkaInspection } from './inspection.js';
import kafkajs from 'kafkajs';

export class KafkaTopology implements TopologyManagement {
  constructor(
    private readonly connection: KafkaConnection,
    private readonly inspection: KafkaInspection,
  ) {}

  /** Deletes the topics (`mq bench`'s own); their groups' offsets go with them. */
  async remove(topology: Topology): Promise<void> {
    const existing = new Set(await this.connection.topicNames());
    const topics = topology.topics.map((topic) => topic.name).filter((name) => existing.has(name));
    if (topics.length === 0) return;
    try {
      await this.connection.admin.deleteTopics({ topics });
    } catch (error) {
      throw this.connection.failure(error, `deleting ${topics.join(', ')}`);
    }
  }

  /** Topics only: Kafka has no exchanges, queues or bindings. */
  async export(): Promise<TopologySnapshot> {
    const topics = await this.inspection.topicDeclarations();
    return { exchanges: [], queues: [], bindings: [], topics };
  }

  async plan(topology: Topology): Promise<TopologyChange[]> {
    const existing = new Set(await this.connection.topicNames());
    const changes: TopologyChange[] = [];
    for (const topic of topology.topics) {
      const found = existing.has(topic.name);
      changes.push(change('topic', topic.name, !found, found ? await this.differences(topic) : []));
    }
    return changes;
  }

  async apply(topology: Topology): Promise<TopologyChange[]> {
    const changes = await this.plan(topology);
    const conflicts = changes.filter((c) => c.action === 'conflict');
    if (conflicts.length > 0) {
      throw new RefusedError(`nothing was changed: ${describeConflicts(conflicts)}`, {
        hint: 'change mq.config.json to match, or alter or delete the topic with the Kafka tools',
      });
    }
    const missing = topology.topics.filter((topic) =>
      changes.some((c) => c.action === 'create' && c.name === topic.name),
    );
    if (missing.length > 0) {
      try {
        await this.connection.admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({
            topic: topic.name,
            numPartitions: topic.partitions,
            ...(topic.retentionMs === null
              ? {}
              : { configEntries: [{ name: 'retention.ms', value: String(topic.retentionMs) }] }),
          })),
        });
      } catch (error) {
        // Someone else created it in between: the next plan says whether it matches.
        if (!isAlreadyThere(error)) throw this.connection.failure(error, 'creating topics');
      }
    }
    return changes;
  }

  private async differences(topic: TopicDeclaration): Promise<string[]> {
    const problems: string[] = [];
    const partitions = (await this.connection.partitions(topic.name)).length;
    if (partitions !== topic.partitions) {
      problems.push(`partitions: live ${partitions}, declared ${topic.partitions}`);
    }
    if (topic.retentionMs !== null) {
      const live = await this.retentionMs(topic.name);
      if (live !== String(topic.retentionMs)) {
        problems.push(`retention.ms: live ${live ?? 'unknown'}, declared ${topic.retentionMs}`);
      }
    }
    return problems;
  }

  private async retentionMs(topic: string): Promise<string | null> {
    try {
      const { resources } = await this.connection.admin.describeConfigs({
        resources: [
          {
            type: kafkajs.ConfigResourceTypes.TOPIC,
            name: topic,
            configNames: ['retention.ms'],
          },
        ],
        includeSynonyms: false,
      });
      const entry = resources[0]?.configEntries.find((e) => e.configName === 'retention.ms');
      return entry?.configValue ?? null;
    } catch (error) {
      throw this.connection.failure(error, `reading the configuration of ${topic}`);
    }
  }
}

function isAlreadyThere(error: unknown): boolean {
  const errors = (error as { errors?: { type?: string }[] } | null)?.errors ?? [];
  const type = (error as { type?: string } | null)?.type;
  return (
    type === 'TOPIC_ALREADY_EXISTS' ||
    (errors.length > 0 && errors.every((e) => e.type === 'TOPIC_ALREADY_EXISTS'))
  );
}
