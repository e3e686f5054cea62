import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { newRootCommand } from '../../../src/commands/root.js';
import { createFactory } from '../../../src/factory.js';
import { createIO } from '../../../src/io/streams.js';

function leafCommands(command: Command, path: string[] = []): [string, Command][] {
  if (command.commands.length === 0) return [[path.join(' '), command]];
  return command.commands.flatMap((child) => leafCommands(child, [...path, child.name()]));
}

const io = createIO(
  { stdinTTY: false, stdoutTTY: false, stderrTTY: false, color: false, prompts: false },
  { in: new PassThrough(), out: new PassThrough(), err: new PassThrough() },
);
const root = newRootCommand(createFactory({ io, env: {}, signal: new AbortController().signal }));
const leaves = leafCommands(root);

describe('every command', () => {
  it('is found', () => {
    expect(leaves.map(([path]) => path)).toEqual(
      expect.arrayContaining([
        'publish',
        'peek',
        'tail',
        'consume',
        'expect',
        'ls',
        'describe',
        'context add',
        'topology plan',
        'help',
      ]),
    );
  });

  it.each(leaves)('%s has --json, a summary and examples', (_path, command) => {
    expect(command.options.map((option) => option.long)).toContain('--json');
    expect(command.summary()).not.toBe('');
    const help: string[] = [];
    command.configureOutput({ writeOut: (text) => help.push(text) }).outputHelp();
    expect(help.join('')).toMatch(/Examples:\n\s+\$ mq /);
  });
});
