import type { TopologyChange, TopologyManagement } from '../../brokers/types.js';
import { requireCapability } from '../../brokers/types.js';
import { desiredTopology, type Topology } from '../../config/topology.js';
import { UsageError } from '../../errors.js';
import { writeJson } from '../../io/json.js';
import { pickFields, type JsonChoice } from '../../io/json-fields.js';
import type { Factory } from '../../factory.js';

export interface TopologyTarget {
  management: TopologyManagement;
  declared: Topology;
  projectPath: string;
}

/** The live broker and what the project file declares; no project file is a usage error. */
export async function topologyTarget(f: Factory): Promise<TopologyTarget> {
  const project = await f.project();
  if (project === null) {
    throw new UsageError('no mq.config.json here or in any parent directory', {
      hint: 'create one (see schema/mq.config.schema.json) or pass --config <file>',
    });
  }
  return {
    management: requireCapability(await f.broker(), 'topology'),
    declared: desiredTopology(project),
    projectPath: project.path,
  };
}

const MARKS: Record<TopologyChange['action'], string> = {
  create: '+',
  unchanged: '=',
  conflict: '!',
};

/** The `--json` fields of `mq topology plan|apply`. */
export const CHANGE_FIELDS = ['action', 'kind', 'name', 'detail'] as const;

export function printChanges(
  f: Factory,
  changes: readonly TopologyChange[],
  json: JsonChoice,
): void {
  if (json.json) {
    writeJson(
      f.io,
      changes.map((change) => pickFields(change, json.fields)),
    );
    return;
  }
  const { colors } = f.io;
  const paint = { create: colors.green, unchanged: colors.dim, conflict: colors.red };
  for (const change of changes) {
    const line = `${MARKS[change.action]} ${change.action.padEnd(9)} ${change.kind.padEnd(8)} ${change.name}`;
    f.io.out.write(`${paint[change.action](line)}${change.detail ? `: ${change.detail}` : ''}\n`);
  }
}

export function summarise(changes: readonly TopologyChange[]): string {
  const count = (action: TopologyChange['action']) =>
    changes.filter((c) => c.action === action).length;
  return `${count('create')} to create, ${count('unchanged')} unchanged, ${count('conflict')} in conflict`;
}
