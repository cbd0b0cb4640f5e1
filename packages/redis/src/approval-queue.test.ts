import { hashCanonical } from '@ape/core';
import { runApprovalQueueContract } from '@ape/core/contracts';
import { describe, expect, it } from 'vitest';
import { connect, uniquePrefix, useRedisServer } from './__fixtures__/server.js';
import { RedisApprovalQueue } from './approval-queue.js';

const { server } = useRedisServer();

runApprovalQueueContract('RedisApprovalQueue', () => {
  const prefix = uniquePrefix();
  const first = connect(server().url);
  const second = connect(server().url);
  return {
    queue: new RedisApprovalQueue({ connection: first, prefix, pollMs: 50 }),
    peer: new RedisApprovalQueue({ connection: second, prefix, pollMs: 50 }),
    dispose: async () => {
      await first.close();
      await second.close();
    },
  };
});

function publication(tenant: string) {
  const args = { to: 'someone@example.com' };
  return {
    tenant,
    session: 's1',
    stepIndex: 0,
    action: 'send_email',
    argsHash: hashCanonical(args),
    args,
    provenance: 'USER_TRUSTED' as const,
    decision: { decision: 'ESCALATE' as const, rules: ['r'], reason: 'needs a human', policy: 'sha256:x' },
    expiresAt: Date.now() + 60_000,
  };
}

describe('RedisApprovalQueue keys', () => {
  it('names requests <tenant>/<uuid> and keeps every key of a tenant under the tenant segment', async () => {
    const prefix = uniquePrefix();
    const connection = connect(server().url);
    try {
      const queue = new RedisApprovalQueue({ connection, prefix });
      const id = await queue.publish(publication('a:b/c'));
      expect(id).toMatch(/^a%3Ab%2Fc\/[0-9a-f-]{36}$/);
      const keys = (await connection.command('test', 'keys', ['KEYS', `${prefix}*`])) as string[];
      expect(keys.sort()).toEqual([`${prefix}approval:${id}`, `${prefix}approvals:a%3Ab%2Fc`]);
      for (const key of keys) {
        expect((await connection.command('test', 'pttl', ['PTTL', key])) as number).toBeGreaterThan(60_000);
      }
      expect((await queue.list({ tenant: 'a:b' })).length).toBe(0);
      expect((await queue.list({ tenant: 'a:b/c' })).length).toBe(1);
    } finally {
      await connection.close();
    }
  });

  it('treats a tampered record as unavailable (STORE_UNAVAILABLE), never as an answer', async () => {
    const prefix = uniquePrefix();
    const connection = connect(server().url);
    try {
      const queue = new RedisApprovalQueue({ connection, prefix });
      const id = await queue.publish(publication('acme'));
      await connection.command('test', 'tamper', [
        'HSET',
        `${prefix}approval:${id}`,
        'state',
        'answered',
        'settlement',
        '{"approved":true}',
      ]);
      await expect(queue.get(id)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(queue.wait(id, new AbortController().signal)).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
      });
    } finally {
      await connection.close();
    }
  });

  it('answers unknown for a malformed id and refuses to wait for it with RUNTIME_STATE', async () => {
    const connection = connect(server().url);
    try {
      const queue = new RedisApprovalQueue({ connection, prefix: uniquePrefix() });
      expect(await queue.cancel('../../etc', 'x')).toEqual({ ok: false, reason: 'unknown' });
      await expect(queue.wait('nope', new AbortController().signal)).rejects.toMatchObject({
        code: 'RUNTIME_STATE',
      });
    } finally {
      await connection.close();
    }
  });
});

describe('RedisApprovalQueue options', () => {
  it('refuses a malformed prefix, retention or poll interval with CONFIG_INVALID naming it', async () => {
    const connection = connect(server().url);
    try {
      for (const [options, field] of [
        [{ prefix: 'a b' }, 'prefix'],
        [{ retentionMs: 10 }, 'retentionMs'],
        [{ pollMs: 1.5 }, 'pollMs'],
      ] as const) {
        expect(() => new RedisApprovalQueue({ connection, ...options })).toThrow(
          expect.objectContaining({ code: 'CONFIG_INVALID', details: { field } }),
        );
      }
    } finally {
      await connection.close();
    }
  });
});
