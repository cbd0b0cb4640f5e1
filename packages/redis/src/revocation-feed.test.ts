import { runRevocationFeedContract } from '@ape/core/contracts';
import { describe, expect, it } from 'vitest';
import { connect, uniquePrefix, useRedisServer } from './__fixtures__/server.js';
import { createRedisConnection } from './connection.js';
import { RedisRevocationFeed } from './revocation-feed.js';

const { server } = useRedisServer();

runRevocationFeedContract('RedisRevocationFeed', async () => {
  const prefix = uniquePrefix();
  // Generous bounds: the contract is about what reaches the peer, not about speed on a busy machine.
  const first = connect(server().url, 1_000);
  const second = connect(server().url, 1_000);
  const options = { prefix, tenants: ['acme', 'other'], maxStalenessMs: 5_000 };
  const feed = new RedisRevocationFeed({ connection: first, ...options });
  const peer = new RedisRevocationFeed({ connection: second, ...options });
  await Promise.all([feed.ready(), peer.ready()]);
  return {
    feed,
    peer,
    boundMs: 5_000,
    dispose: async () => {
      await Promise.all([feed.close(), peer.close()]);
      await Promise.all([first.close(), second.close()]);
    },
  };
});

describe('RedisRevocationFeed', () => {
  it('answers stale for a tenant it does not watch, never ok', async () => {
    const connection = connect(server().url, 250);
    const feed = new RedisRevocationFeed({ connection, prefix: uniquePrefix(), tenants: ['acme'] });
    try {
      await feed.ready();
      expect(feed.check({ tenant: 'acme', session: 's' })).toEqual({ ok: true });
      expect(feed.check({ tenant: 'elsewhere', session: 's' })).toMatchObject({
        ok: false,
        reason: 'stale',
        ageMs: Number.POSITIVE_INFINITY,
      });
    } finally {
      await feed.close();
      await connection.close();
    }
  });

  it('answers stale before its first read and after it is closed', async () => {
    const connection = connect(server().url, 250);
    const feed = new RedisRevocationFeed({
      connection,
      prefix: uniquePrefix(),
      tenants: ['acme'],
      maxStalenessMs: 400,
    });
    expect(feed.check({ tenant: 'acme', session: 's' })).toMatchObject({ ok: false, reason: 'stale' });
    await feed.ready();
    await feed.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(feed.check({ tenant: 'acme', session: 's' })).toMatchObject({
      ok: false,
      reason: 'stale',
      boundMs: 400,
    });
    await connection.close();
  });

  it('refuses a staleness bound that one read cycle could exceed with CONFIG_INVALID', () => {
    const connection = createRedisConnection({ url: server().url, timeoutMs: 250 });
    expect(
      () => new RedisRevocationFeed({ connection, tenants: ['acme'], refreshMs: 500, maxStalenessMs: 600 }),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'maxStalenessMs' } }));
    expect(() => new RedisRevocationFeed({ connection, tenants: [''] })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'tenants' } }),
    );
    return connection.close();
  });

  it('fails closed on a tampered revocation record: the view goes stale instead of dropping it', async () => {
    const prefix = uniquePrefix();
    const connection = connect(server().url, 250);
    const feed = new RedisRevocationFeed({ connection, prefix, tenants: ['acme'], maxStalenessMs: 500 });
    try {
      await feed.ready();
      await connection.command('test', 'tamper', ['HSET', `${prefix}revocations:acme`, 't:acme', 'not json']);
      await expect(feed.list('acme')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(feed.check({ tenant: 'acme', session: 's' })).toMatchObject({ ok: false, reason: 'stale' });
    } finally {
      await feed.close();
      await connection.close();
    }
  });
});
