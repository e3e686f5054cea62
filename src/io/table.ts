import type { IOStreams } from './streams.js';

/**
 * Rows as a table on a terminal (cli-table3, colour from io.colors) and as tab-separated lines with
 * no header when piped, so scripts can cut and awk them.
 */
export async function printRows(
  io: IOStreams,
  header: readonly string[],
  rows: readonly (readonly string[])[],
): Promise<void> {
  if (!io.isStdoutTTY()) {
    io.out.write(rows.map((row) => `${row.join('\t')}\n`).join(''));
    return;
  }
  const { default: Table } = await import('cli-table3');
  const table = new Table({
    head: header.map((title) => io.colors.bold(title)),
    style: { head: [], border: [] },
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
  });
  table.push(...rows.map((row) => [...row]));
  io.out.write(`${table.toString()}\n`);
}
