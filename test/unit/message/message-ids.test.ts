import { describe, expect, it } from 'vitest';
import { messageIdSequence } from '../../../src/message/message-ids.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('message ids for a publish run', () => {
  it('are distinct version-4 UUIDs', () => {
    const next = messageIdSequence();
    const ids = Array.from({ length: 10_000 }, () => next());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(UUID_V4);
  });

  it('differ between runs', () => {
    expect(messageIdSequence()()).not.toBe(messageIdSequence()());
  });
});
