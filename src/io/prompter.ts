import type { IOStreams } from './streams.js';

/** A lowercase letter or digit that answers a `choose` prompt (`h` is the prompt's own help key). */
export type ChoiceKey =
  | 'a'
  | 'b'
  | 'c'
  | 'd'
  | 'e'
  | 'f'
  | 'g'
  | 'i'
  | 'j'
  | 'k'
  | 'l'
  | 'm'
  | 'n'
  | 'o'
  | 'p'
  | 'q'
  | 'r'
  | 's'
  | 't'
  | 'u'
  | 'v'
  | 'w'
  | 'x'
  | 'y'
  | 'z';

/** Questions to a person. The only module that imports the prompt library, and only when asked. */
export interface Prompter {
  confirm(message: string, fallback?: boolean): Promise<boolean>;
  /** One key per choice (`a` ack, `r` requeue…), then Enter: quick to answer, easy to drive in a terminal test. */
  choose<T extends string>(
    message: string,
    choices: readonly { value: T; name: string; key: ChoiceKey }[],
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
    async choose(message, choices) {
      const { expand } = await import('@inquirer/prompts');
      return expand({ message, choices: [...choices], expanded: true }, context);
    },
  };
}
