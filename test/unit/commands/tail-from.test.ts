import { describe, expect, it } from 'vitest';
import { parseLogPosition } from '../../../src/commands/tail.js';

describe('tail --from', () => {
  it.each([
    ['beginning', { kind: 'beginning' }],
    ['earliest', { kind: 'beginning' }],
    ['end', { kind: 'end' }],
    ['latest', { kind: 'end' }],
    ['42', { kind: 'offset', offset: '42' }],
    ['9223372036854775806', { kind: 'offset', offset: '9223372036854775806' }],
    ['2025-01-31T12:00:00Z', { kind: 'time', timestamp: Date.parse('2025-01-31T12:00:00Z') }],
  ])('reads %s', (value, want) => {
    expect(parseLogPosition(value)).toEqual(want);
  });

  it('reads a duration as that long ago', () => {
    const position = parseLogPosition('10m');
    expect(position.kind).toBe('time');
    const ago = Date.now() - (position as { timestamp: number }).timestamp;
    expect(ago).toBeGreaterThanOrEqual(600_000);
    expect(ago).toBeLessThan(605_000);
  });

  it.each(['-1', 'yesterday', '2025-13-45', ''])('refuses %j', (value) => {
    expect(() => parseLogPosition(value)).toThrow(/want beginning, end, an offset/);
  });
});
