/** Name matching: RabbitMQ's topic exchange patterns and `mq ls` globs. */

/**
 * A routing key's words as RabbitMQ's topic exchange splits them: on every `.`, so `a..b` has an
 * empty middle word and `a.` an empty last one, while the empty key has no words at all.
 */
function topicWords(key: string): string[] {
  return key === '' ? [] : key.split('.');
}

/**
 * True when a topic binding key matches a routing key: `*` is exactly one word (an empty one
 * included), `#` is zero or more words, any other word matches itself.
 */
export function topicMatches(bindingKey: string, routingKey: string): boolean {
  const words = topicWords(routingKey);
  // matched[j]: the pattern words seen so far can match the first j words of the key.
  let matched = words.map(() => false);
  matched.unshift(true);
  for (const pattern of topicWords(bindingKey)) {
    const next = matched.map(() => false);
    for (let j = 0; j <= words.length; j += 1) {
      if (pattern === '#') next[j] = matched[j]! || (j > 0 && next[j - 1]!);
      else if (j > 0) next[j] = matched[j - 1]! && (pattern === '*' || pattern === words[j - 1]);
    }
    matched = next;
  }
  return matched[words.length]!;
}

/** A glob (`*` any run of characters, `?` one character) as an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  const source = [...glob]
    .map((char) => {
      if (char === '*') return '.*';
      if (char === '?') return '.';
      return char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${source}$`, 'su');
}
