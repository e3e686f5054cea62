/**
 * `mq topology plan|apply` on RabbitMQ. Redeclaring a queue with different arguments makes the
 * broker close the channel with PRECONDITION_FAILED, after whatever was declared before it; so the
 * live arguments are read from the management API and compared first, and a conflict refuses the
 * whole topology before anything changes, naming each argument that differs. Without the API, plan
 * sees only what exists (passive declares) and apply leaves the comparison to the broker.
 *
 * The change list and its wording are the local broker's (`../local/topology.ts`), so a plan reads
 * the same on both.
 */
import type { Channel } from 'amqplib';
import type {
  BindingDeclaration,
  QueueArguments,
  QueueDeclaration,
  Topology,
} from '../../config/topology.js';
import type { TopologySnapshot } from '../../config/topology-export.js';
import { RefusedError } from '../../errors.js';
import { argumentDifferences, bindingName, change, describeConflicts } from '../topology-plan.js';
import type { TopologyChange, TopologyManagement } from '../types.js';
import type { AmqpConnection } from './connection.js';
import { asMqError, brokerText, NOT_FOUND, PRECONDITION_FAILED, replyCode } from './failures.js';
import type { ManagedBinding, ManagedQueue, ManagementApi } from './management.js';

/**
 * The queue arguments RabbitMQ (3.10) compares on a redeclare; any other (`x-max-retries` from
 * tutorials, say) it stores and ignores, so a live value of one of those is no conflict.
 */
const COMPARED_ARGUMENTS: ReadonlySet<string> = new Set([
  'x-dead-letter-exchange',
  'x-dead-letter-routing-key',
  'x-dead-letter-strategy',
  'x-delivery-limit',
  'x-expires',
  'x-max-age',
  'x-max-in-memory-bytes',
  'x-max-in-memory-length',
  'x-max-length',
  'x-max-length-bytes',
  'x-max-priority',
  'x-message-ttl',
  'x-overflow',
  'x-queue-leader-locator',
  'x-queue-master-locator',
  'x-queue-mode',
  'x-queue-type',
  'x-queue-version',
  'x-quorum-initial-group-size',
  'x-single-active-consumer',
  'x-stream-max-segment-size-bytes',
]);

/**
 * `x-delivery-limit: live 2, declared 4` for each difference a redeclare would refuse: the
 * compared arguments (the live queue's type standing for its `x-queue-type`) and durability, as
 * mq declares every queue durable.
 */
export function queueDifferences(live: ManagedQueue, declared: QueueArguments): string[] {
  const compared = Object.fromEntries(
    Object.entries(live.arguments).filter(([name]) => COMPARED_ARGUMENTS.has(name)),
  );
  const liveArguments = { ...compared, 'x-queue-type': live.type } as unknown as QueueArguments;
  return [
    ...(live.durable ? [] : ['durable: live false, declared true']),
    ...argumentDifferences(liveArguments, declared),
  ];
}

/** Arguments as the broker takes them: unset ones left out. */
function declaredArguments(queue: QueueDeclaration): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(queue.arguments).filter(([, value]) => value !== undefined),
  );
}

/** Exchanges whose names start with `amq.` exist on every vhost and cannot be declared. */
const isReserved = (exchange: string) => exchange.startsWith('amq.');

export class RabbitMqTopology implements TopologyManagement {
  constructor(
    private readonly connection: () => Promise<AmqpConnection>,
    private readonly management: ManagementApi,
  ) {}

  async plan(topology: Topology): Promise<TopologyChange[]> {
    return (await this.management.available())
      ? this.planFromManagement(topology)
      : this.planFromDeclares(topology);
  }

  async apply(topology: Topology): Promise<TopologyChange[]> {
    const managed = await this.management.available();
    const changes = managed
      ? await this.planFromManagement(topology)
      : await this.planFromDeclares(topology);
    const conflicts = changes.filter((c) => c.action === 'conflict');
    if (conflicts.length > 0) {
      throw new RefusedError(`cannot declare the topology: ${describeConflicts(conflicts)}`, {
        hint: 'change the declaration to match, or delete the live queue or exchange (with its messages) and apply again',
      });
    }
    const creating = new Set(
      changes.filter((c) => c.action === 'create').map((c) => `${c.kind} ${c.name}`),
    );
    // Without the management API nothing was compared: declaring what exists lets RabbitMQ compare.
    const declare = (kind: TopologyChange['kind'], name: string) =>
      creating.has(`${kind} ${name}`) || (!managed && !(kind === 'exchange' && isReserved(name)));
    const connection = await this.connection();
    try {
      await connection.withChannel(async (channel) => {
        for (const exchange of topology.exchanges) {
          if (!declare('exchange', exchange.name)) continue;
          await channel.assertExchange(exchange.name, exchange.type, {
            durable: exchange.durable,
          });
        }
        for (const queue of topology.queues) {
          if (!declare('queue', queue.name)) continue;
          await channel.assertQueue(queue.name, {
            durable: true,
            arguments: declaredArguments(queue),
          });
        }
        for (const binding of topology.bindings) {
          if (!declare('binding', bindingName(binding))) continue;
          await channel.bindQueue(binding.queue, binding.exchange, binding.routingKey);
        }
      });
    } catch (error) {
      if (replyCode(error) === PRECONDITION_FAILED) {
        throw new RefusedError(`RabbitMQ refused the topology: ${brokerText(error)}`, {
          cause: error,
          hint: 'what came before it in mq.config.json was declared; with the management API enabled, mq topology plan names every difference first',
        });
      }
      throw asMqError(error, 'declaring the topology');
    }
    return changes;
  }

  async remove(topology: Topology): Promise<void> {
    const connection = await this.connection();
    try {
      await connection.withChannel(async (channel) => {
        // Deleting what does not exist succeeds on RabbitMQ 3.x and 4.x alike.
        for (const queue of topology.queues) await channel.deleteQueue(queue.name);
        for (const exchange of topology.exchanges) await channel.deleteExchange(exchange.name);
      });
    } catch (error) {
      throw asMqError(error, 'deleting queues and exchanges');
    }
  }

  /** Needs the management API: nothing else lists exchanges, queues and bindings. */
  async export(): Promise<TopologySnapshot> {
    await this.management.require('mq topology export');
    const [exchanges, queues, bindings] = await Promise.all([
      this.management.exchanges(),
      this.management.queues(),
      this.management.bindings(),
    ]);
    return {
      exchanges,
      queues: queues.map((queue) => ({
        name: queue.name,
        arguments: { ...queue.arguments, 'x-queue-type': queue.type },
        durable: queue.durable,
        exclusive: queue.exclusive,
        autoDelete: queue.autoDelete,
        policy: queue.policy,
      })),
      bindings: bindings.map((binding) => ({
        exchange: binding.source,
        destination: binding.destination,
        destinationType: binding.destinationType,
        routingKey: binding.routingKey,
        arguments: binding.arguments,
      })),
      topics: [],
    };
  }

  private async planFromManagement(topology: Topology): Promise<TopologyChange[]> {
    const api = this.management;
    const changes: TopologyChange[] = [];
    const exchanges = new Map<string, boolean>();
    const exchangeExists = async (name: string) => {
      if (!exchanges.has(name)) exchanges.set(name, (await api.exchange(name)) !== null);
      return exchanges.get(name)!;
    };
    for (const exchange of topology.exchanges) {
      const live = await api.exchange(exchange.name);
      exchanges.set(exchange.name, live !== null);
      const differences =
        live === null
          ? []
          : [
              ...(live.type === exchange.type
                ? []
                : [`type: live ${live.type}, declared ${exchange.type}`]),
              ...(live.durable === exchange.durable
                ? []
                : [`durable: live ${live.durable}, declared ${exchange.durable}`]),
            ];
      changes.push(change('exchange', exchange.name, live === null, differences));
    }
    const queues = new Map<string, ManagedBinding[] | null>();
    const queueBindings = async (name: string) => {
      if (!queues.has(name)) {
        queues.set(name, (await api.queue(name)) === null ? null : await api.queueBindings(name));
      }
      return queues.get(name)!;
    };
    for (const queue of topology.queues) {
      const live = await api.queue(queue.name);
      queues.set(queue.name, live === null ? null : await api.queueBindings(queue.name));
      const differences = live === null ? [] : queueDifferences(live, queue.arguments);
      changes.push(change('queue', queue.name, live === null, differences));
    }
    const declaredExchanges = new Set(topology.exchanges.map((e) => e.name));
    const declaredQueues = new Set(topology.queues.map((q) => q.name));
    for (const binding of topology.bindings) {
      const live = await queueBindings(binding.queue);
      const missing = [
        ...(declaredExchanges.has(binding.exchange) || (await exchangeExists(binding.exchange))
          ? []
          : [`exchange "${binding.exchange}" does not exist`]),
        ...(declaredQueues.has(binding.queue) || live !== null
          ? []
          : [`queue "${binding.queue}" does not exist`]),
      ];
      const present = (live ?? []).some((b) => isBinding(b, binding));
      changes.push(change('binding', bindingName(binding), !present, missing));
    }
    return changes;
  }

  /** Existence only: passive declares cannot show arguments, and nothing lists bindings. */
  private async planFromDeclares(topology: Topology): Promise<TopologyChange[]> {
    const connection = await this.connection();
    const exists = async (check: (channel: Channel) => Promise<unknown>) => {
      try {
        await connection.withChannel(check);
        return true;
      } catch (error) {
        if (replyCode(error) === NOT_FOUND) return false;
        throw asMqError(error, 'looking up the topology');
      }
    };
    const changes: TopologyChange[] = [];
    for (const exchange of topology.exchanges) {
      const found = await exists((channel) => channel.checkExchange(exchange.name));
      changes.push(change('exchange', exchange.name, !found, []));
    }
    for (const queue of topology.queues) {
      const found = await exists((channel) => channel.checkQueue(queue.name));
      changes.push(change('queue', queue.name, !found, []));
    }
    for (const binding of topology.bindings) {
      changes.push(change('binding', bindingName(binding), true, []));
    }
    return changes;
  }
}

function isBinding(live: ManagedBinding, declared: BindingDeclaration): boolean {
  return (
    live.source === declared.exchange &&
    live.destinationType === 'queue' &&
    live.routingKey === declared.routingKey &&
    Object.keys(live.arguments).length === 0
  );
}
