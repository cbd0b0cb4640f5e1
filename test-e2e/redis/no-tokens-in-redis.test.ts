import { AuthorityManager, InMemoryTokenStore } from '@ape/authority';
import { createInMemoryAuditSink, createRuntime, defineTool, type TokenRecord } from '@ape/core';
import { ApprovalQueueEscalation } from '@ape/escalation';
import { compilePolicy } from '@ape/policy';
import { createRedisConnection, RedisApprovalQueue, RedisRevocationFeed, RedisUsageStore } from '@ape/redis';
import { startRedisServer, type TestRedisServer } from '@ape/redis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Sees every token record the authority mints: the one place the secrets live. */
class RecordingTokenStore extends InMemoryTokenStore {
  readonly records: TokenRecord[] = [];
  override put(record: TokenRecord): void {
    this.records.push(record);
    super.put(record);
  }
}

let server: TestRedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server.stop();
});

/** Every key of the whole server with every value, as text, whatever its type. */
async function dumpEverything(url: string): Promise<string[]> {
  const connection = createRedisConnection({ url, timeoutMs: 5_000 });
  const texts: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = (await connection.command('dump', 'scan', ['SCAN', cursor, 'COUNT', '1000'])) as [
        string,
        string[],
      ];
      cursor = next;
      for (const key of keys) {
        texts.push(key);
        const type = (await connection.command('dump', 'type', ['TYPE', key])) as string;
        const read: Record<string, string[]> = {
          string: ['GET', key],
          hash: ['HGETALL', key],
          zset: ['ZRANGE', key, '0', '-1', 'WITHSCORES'],
          set: ['SMEMBERS', key],
          list: ['LRANGE', key, '0', '-1'],
          stream: ['XRANGE', key, '-', '+'],
        };
        const command = read[type];
        if (command === undefined) throw new Error(`unexpected key type ${type} for ${key}`);
        texts.push(JSON.stringify(await connection.command('dump', 'read', command)));
      }
    } while (cursor !== '0');
  } finally {
    await connection.close();
  }
  return texts;
}

describe('what a fleet writes to Redis', () => {
  it('holds no token, token id, fingerprint or token record after a full session with an approval', async () => {
    const agentConnection = createRedisConnection({ url: server.url, timeoutMs: 2_000 });
    const approverConnection = createRedisConnection({ url: server.url, timeoutMs: 2_000 });
    const store = new RecordingTokenStore();
    const audit = createInMemoryAuditSink();
    const approver = new RedisApprovalQueue({ connection: approverConnection });
    const usage = new RedisUsageStore({ connection: agentConnection });
    const feed = new RedisRevocationFeed({ connection: agentConnection, tenants: ['acme'] });
    try {
      await feed.ready();
      const runtime = createRuntime({
        tenant: 'acme',
        policy: compilePolicy({
          version: 1,
          name: 'fleet',
          allowed_actions: ['read_file'],
          escalation_required: ['send_email'],
        }),
        authority: new AuthorityManager({ tenant: 'acme', store }),
        audit,
        escalation: new ApprovalQueueEscalation({
          queue: new RedisApprovalQueue({ connection: agentConnection, pollMs: 50 }),
          onPublished: (id) => {
            void approver.get(id).then((record) =>
              record === undefined
                ? undefined
                : approver.answer(id, {
                    approved: true,
                    approver: 'alice',
                    provenance: 'USER_TRUSTED',
                    binding: record.request,
                  }),
            );
          },
        }),
      });
      await runtime.setIntent(
        { allowed_actions: ['read_file', 'send_email'], forbidden_actions: [], scope: 'test' },
        { provenance: 'USER_TRUSTED' },
      );
      await runtime.submitPlan(
        {
          steps: [
            { action_id: 'read_file', args: { path: '/workspace/a' } },
            { action_id: 'send_email', args: { to: 'cfo@example.com' } },
          ],
        },
        { provenance: 'USER_TRUSTED' },
      );
      const ran: string[] = [];
      const read = defineTool({ id: 'read_file', run: () => ran.push('read_file') });
      const send = defineTool({ id: 'send_email', run: () => ran.push('send_email') });
      for (const [index, tool, args] of [
        [0, read, { path: '/workspace/a' }],
        [1, send, { to: 'cfo@example.com' }],
      ] as const) {
        const counters = [
          { key: `acme\u0000session\u0000${runtime.sessionId}\u0000calls`, max: 10, windowMs: 60_000 },
        ];
        expect((await usage.acquire({ counters, now: Date.now() })).ok).toBe(true);
        await runtime.executeStep(index, tool, { args, provenance: 'USER_TRUSTED' });
        await usage.setPreviousAction([`acme\u0000session\u0000${runtime.sessionId}`], tool.id);
      }
      await feed.revoke(
        { tenant: 'acme', session: runtime.sessionId },
        { reason: 'done', revokedBy: 'test' },
      );
      await runtime.terminate();
      expect(ran).toEqual(['read_file', 'send_email']);
      expect(audit.events.map((event) => event.type)).toContain('escalation.approved');
    } finally {
      await feed.close();
      await agentConnection.close();
      await approverConnection.close();
    }

    const everything = await dumpEverything(server.url);
    expect(everything.length).toBeGreaterThan(0);
    expect(store.records.length).toBe(2);
    const haystack = everything.join('\n');
    for (const record of store.records) {
      expect(haystack).not.toContain(record.id);
      expect(haystack).not.toContain(Buffer.from(record.id, 'hex').toString('base64'));
      expect(haystack).not.toContain(record.fingerprint);
      expect(haystack).not.toContain(record.binding.planHash);
      expect(haystack).not.toContain(record.binding.intentVersion);
    }
    for (const field of ['fingerprint', 'intentVersion', 'planHash', 'issuedAt', 'token']) {
      expect(haystack).not.toContain(field);
    }
  });
});
