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
        'groups',
        'offsets reset',
        'context add',
        'topology plan',
        'topology export',
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

describe('the command tree for given arguments', () => {
  const names = (args: string[]) =>
    newRootCommand(
      createFactory({ io, env: {}, signal: new AbortController().signal }),
      args,
    ).commands.map((command) => command.name());

  it('holds only the subcommand the arguments run, past root options and their values', () => {
    expect(names(['publish', 'order.placed', 'x.json'])).toEqual(['publish']);
    expect(names(['--broker', 'peek', '-c', 'ls', '--insecure', 'tail', 'q'])).toEqual(['tail']);
    expect(names(['--connect-timeout', '5s', 'context', 'ls'])).toEqual(['context']);
  });

  it('holds every command for help, a typo or no subcommand', () => {
    const all = names([]);
    expect(all).toContain('help');
    expect(all.length).toBeGreaterThan(9);
    expect(names(['help', 'publish'])).toEqual(all);
    expect(names(['publsh'])).toEqual(all);
    expect(names(['--broker', 'local'])).toEqual(all);
  });
});
