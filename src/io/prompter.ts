import type { IOStreams } from './streams.js';

/** Questions to a person. The only module that imports the prompt library, and only when asked. */
export interface Prompter {
  confirm(message: string, fallback?: boolean): Promise<boolean>;
  select<T extends string>(
    message: string,
    choices: readonly { value: T; name: string; key?: string }[],
  ): Promise<T>;
}

export function inquirerPrompter(io: IOStreams): Prompter {
  // Prompts draw on stderr so stdout stays data only.
  const context = { input: io.in, output: io.err };
  return {
    async confirm(message, fallback = false) {
      const { confirm } = await import('@inquirer/prompts');
      return confirm({ message, default: fallback }, context);
    },
    async select(message, choices) {
      const { select } = await import('@inquirer/prompts');
      return select(
        { message, choices: choices.map((c) => ({ value: c.value, name: c.name })) },
        context,
      );
    },
  };
}
