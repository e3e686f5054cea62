import { Command } from 'commander';
import { stat, writeFile, rename, rm } from 'node:fs/promises';
import { requireCapability } from '../../brokers/types.js';
import { exportTopology, type ExportedProject } from '../../config/topology-export.js';
import { RefusedError, UsageError } from '../../errors.js';
import type { Factory } from '../../factory.js';
import { sanitizeLine } from '../../message/sanitize.js';
import { writeJson } from '../../io/json.js';
import { addJsonOptions, jsonChoice, pickFields } from '../../io/json-fields.js';

interface ExportFlags {
  output?: string;
  force: boolean;
  json: boolean;
  fields?: string;
}

/** The `--json` fields: the file's path (null for stdout), each warning, and the project file. */
const EXPORT_FIELDS = ['output', 'warnings', 'project'] as const;

export function newTopologyExportCommand(f: Factory): Command {
  const command = new Command('export')
    .summary("write the broker's live topology as a project file (mq.config.json)")
    .description(
      "Reads the broker's exchanges, queues, bindings and topics and writes them as mq.config.json\n" +
        'declares them, dead-letter wiring folded back into deadLetterQueue, maxDeliveries and\n' +
        'deadLetterTopic, so that topology apply of the file changes nothing. What the file cannot say\n' +
        '(other queue arguments, policies, exchange-to-exchange bindings) is left out with a warning on\n' +
        'stderr. On RabbitMQ it needs the management API.',
    )
    .option('-o, --output <file>', 'write the project file here instead of stdout')
    .option('--force', 'overwrite the --output file if it exists', false);
  return addJsonOptions(
    command,
    EXPORT_FIELDS,
    'print {output, warnings, project} as one JSON line instead of the file and warning lines',
  )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ mq --broker amqp://localhost/%2f topology export > mq.config.json\n' +
        '  $ mq --broker kafka://localhost:9092 topology export --output kafka.config.json\n' +
        '  $ mq topology export --json --fields warnings',
    )
    .action(async (flags: ExportFlags) => {
      const json = jsonChoice(flags, EXPORT_FIELDS);
      if (flags.force && flags.output === undefined) {
        throw new UsageError('--force needs --output <file>: there is nothing to overwrite');
      }
      if (flags.output !== undefined && !flags.force && (await exists(flags.output))) {
        throw new RefusedError(`${flags.output} already exists; nothing was written`, {
          hint: 'pass --force to overwrite it, or choose another --output file',
        });
      }
      const management = requireCapability(await f.broker(), 'topology');
      const { project, warnings } = exportTopology(await management.export());
      const text = `${JSON.stringify(project, null, 2)}\n`;
      if (flags.output !== undefined) {
        await writeAtomically(flags.output, text);
      }
      if (json.json) {
        const report = { output: flags.output ?? null, warnings, project };
        writeJson(f.io, pickFields(report, json.fields));
        return;
      }
      // Queue and exchange names are the broker's: escaped before they reach a terminal.
      for (const warning of warnings) f.io.notice(`warning: ${sanitizeLine(warning)}`);
      if (flags.output === undefined) f.io.out.write(text);
      f.io.notice(
        `exported ${counted(project)}${flags.output === undefined ? '' : ` to ${flags.output}`}` +
          (warnings.length > 0 ? ` (${warnings.length} warning(s) above)` : ''),
      );
    });
}

function counted(project: ExportedProject): string {
  const parts: [number, string][] = [
    [project.exchanges.length, 'exchange(s)'],
    [project.queues.length, 'queue(s)'],
    [project.topics.length, 'topic(s)'],
  ];
  return parts.map(([count, what]) => `${count} ${what}`).join(', ');
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A reader never sees half a file: written beside it, then renamed over it. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new UsageError(`cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
}
