import { describe, expect, it } from 'vitest';
import { parseResetPosition } from '../../../src/commands/offsets.js';

describe('offsets reset --to', () => {
  it.each([
    ['earliest', { kind: 'beginning' }],
    ['latest', { kind: 'end' }],
    ['42', { kind: 'offset', offset: '42' }],
    ['2025-01-31T12:00:00Z', { kind: 'time', timestamp: Date.parse('2025-01-31T12:00:00Z') }],
  ])('reads %s as tail --from does', (value, want) => {
    expect(parseResetPosition(value)).toEqual(want);
  });

  it('reads a duration as that long ago', () => {
    const position = parseResetPosition('1h');
    expect(position.kind).toBe('time');
    const ago = Date.now() - (position as { timestamp: number }).timestamp;
    expect(ago).toBeGreaterThanOrEqual(3_600_000);
    expect(ago).toBeLessThan(3_605_000);
  });

  it.each(['-1', 'yesterday', '1y', ''])('refuses %j in the words of a reset', (value) => {
    expect(() => parseResetPosition(value)).toThrow(/^want earliest, latest, an offset/);
  });
});
