import { describe, expect, it } from 'vitest';
import { idMatches, shortId } from '../../../src/commands/dlq/shared.js';

describe('dead-letter ids', () => {
  it('shows 8 characters, of the hash for a content id', () => {
    expect(shortId('3f2a9c1e-e105-4298-a56a-ed04e650137d')).toBe('3f2a9c1e');
    expect(shortId('sha256:0123456789abcdef')).toBe('01234567');
  });

  it('finds an id by a prefix of it, or of its hash', () => {
    expect(idMatches('3f2a9c1e-e105', '3f2a')).toBe(true);
    expect(idMatches('sha256:0123456789abcdef', '01234567')).toBe(true);
    expect(idMatches('sha256:0123456789abcdef', 'sha256:0123')).toBe(true);
    expect(idMatches('3f2a9c1e-e105', '3f2b')).toBe(false);
  });
});
