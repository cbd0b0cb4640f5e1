import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock.js';
import { runRevocationFeedContract } from '../contracts/revocation-feed-contract.js';
import { createInMemoryRevocationFeed } from './in-memory-revocation-feed.js';
import { revocationTargetKey } from './revocation-rules.js';

runRevocationFeedContract('InMemoryRevocationFeed', () => {
  const feed = createInMemoryRevocationFeed();
  return { feed, peer: feed, boundMs: 0 };
});

describe('InMemoryRevocationFeed', () => {
  it('records when and by whom a target was revoked, on the injected clock', async () => {
    const clock = new FakeClock(5_000);
    const feed = createInMemoryRevocationFeed({ clock });
    await feed.revoke({ tenant: 'acme', lineage: 'l1' }, { reason: 'abuse', revokedBy: 'ops' });
    expect(await feed.list('acme')).toEqual([
      { target: { tenant: 'acme', lineage: 'l1' }, reason: 'abuse', revokedBy: 'ops', revokedAt: 5_000 },
    ]);
  });
});

describe('revocationTargetKey', () => {
  it('gives distinct keys to targets whose parts would collide when joined by a separator', () => {
    const keys = [
      revocationTargetKey({ tenant: 'a:b', session: 'c' }),
      revocationTargetKey({ tenant: 'a', session: 'b:c' }),
      revocationTargetKey({ tenant: 'a:b', lineage: 'c' }),
      revocationTargetKey({ tenant: 'a', lineage: 'b:c' }),
      revocationTargetKey({ tenant: 'a:b:c' }),
      revocationTargetKey({ tenant: '3:a:b' }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });
});
