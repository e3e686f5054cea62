/**
 * What the server's version decides (DESIGN.md §5.1): whether returning a message to a quorum
 * queue with `nack(requeue)` spends one of its deliveries, and whether quorum queues have a
 * delivery limit nobody set.
 */
export interface ServerVersion {
  major: number;
  minor: number;
  patch: number;
}

/** `3.10.8`, `4.3.0-beta.1`, `3.13.7+1.g…`: the numbers before any suffix; null when unreadable. */
export function parseServerVersion(text: string | undefined): ServerVersion | null {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text ?? '');
  if (match === null) return null;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3] ?? 0) };
}

function atLeast(version: ServerVersion, major: number, minor: number): boolean {
  return version.major > major || (version.major === major && version.minor >= minor);
}

/**
 * True when `nack(requeue)` on a quorum queue increments `x-delivery-count`: every version before
 * 4.3. A version nobody can read is assumed to count, so the browse rule errs on the safe side.
 */
export function releaseCountsOnQuorum(version: ServerVersion | null): boolean {
  return version === null || !atLeast(version, 4, 3);
}

/** RabbitMQ 4.0 gave every quorum queue a delivery limit of 20 unless an argument or policy sets one. */
export function defaultQuorumDeliveryLimit(version: ServerVersion | null): number | null {
  return version !== null && atLeast(version, 4, 0) ? 20 : null;
}

export function formatVersion(version: ServerVersion | null): string {
  return version === null
    ? 'an unknown version'
    : `${version.major}.${version.minor}.${version.patch}`;
}
