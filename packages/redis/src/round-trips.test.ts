import { type ActionRequest, createRuntime, type Decision, type UsageStore } from '@ape/core';
import { createFakeAuthority, createStubPolicy } from '@ape/core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect, uniquePrefix, useRedisServer } from './__fixtures__/server.js';
import type { RedisConnection } from './connection.js';
import { type RedisCommandCounter, startRedisCommandCounter } from './testing/command-counter.js';
import { RedisUsageStore } from './usage-store.js';

// Round trips are counted on the wire, by a proxy between the store's connection and a real
// redis-server: what a fleet pays per gated call.

const { server } = useRedisServer();
let counter: RedisCommandCounter;
let connection: RedisConnection;

beforeAll(async () => {
  counter = await startRedisCommandCounter(server().port);
  connection = connect(counter.url);
  await connection.command('test', 'ping', ['PING']);
});

afterAll(async () => {
  await connection.close();
  await counter.close();
});

const INTENT = { allowed_actions: ['read_file', 'write_file'], forbidden_actions: [], scope: 'round trips' };
const READ = { path: '/workspace/a.txt' };

/** No write_file right after read_file (a tool_transitions rule); both count against a lineage budget. */
const noWriteAfterRead = (request: ActionRequest): Decision =>
  request.action === 'write_file' && request.session?.previousAction === 'read_file' ? 'DENY' : 'ALLOW';

async function lineageRuntime(usage: UsageStore, max = 100) {
  const budget = { id: 'budget', max, scope: 'lineage' as const };
  const runtime = createRuntime({
    tenant: 'acme',
    policy: createStubPolicy({
      decide: noWriteAfterRead,
      limits: { read_file: [budget], write_file: [budget] },
    }),
    authority: createFakeAuthority({ tenant: 'acme' }),
    usage,
    lineage: `conversation-${uniquePrefix()}`,
    usageTimeoutMs: 2_000,
  });
  await runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
  const tool = vi.fn(() => 'done');
  const call = (action: string) => runtime.call(action, tool, { args: READ, provenance: 'USER_TRUSTED' });
  return { call, tool };
}

/** The commands one call sends (after an earlier call loaded its scripts: the first use of a script is EVALSHA, then EVAL). */
async function commandsOf(work: () => Promise<unknown>): Promise<readonly string[]> {
  counter.take();
  await work().catch(() => undefined);
  return counter.take();
}

describe('round trips per gated call on Redis', () => {
  it('makes exactly one round trip for an allowed call with a lineage limit and a transition rule', async () => {
    const usage = new RedisUsageStore({ connection, prefix: uniquePrefix() });
    const { call, tool } = await lineageRuntime(usage);
    await call('write_file');
    expect(await commandsOf(() => call('write_file'))).toEqual(['EVALSHA']);
    expect(await commandsOf(() => call('read_file'))).toEqual(['EVALSHA']);
    expect(tool).toHaveBeenCalledTimes(3);
  });

  it('makes at most two for a call the transition rule denies, and one for a call past its budget', async () => {
    const usage = new RedisUsageStore({ connection, prefix: uniquePrefix() });
    const { call, tool } = await lineageRuntime(usage, 3);
    await call('read_file');
    await call('write_file').catch(() => undefined);
    await call('read_file');
    expect(await commandsOf(() => call('write_file'))).toEqual(['EVALSHA', 'EVALSHA']);
    await call('read_file');
    expect(await commandsOf(() => call('read_file'))).toEqual(['EVALSHA']);
    expect(tool).toHaveBeenCalledTimes(3);
  });

  it('makes three for a store without begin and undo (the fallback)', async () => {
    const redis = new RedisUsageStore({ connection, prefix: uniquePrefix() });
    const threeCalls: UsageStore = {
      acquire: (request) => redis.acquire(request),
      release: (reservation) => redis.release(reservation),
      usage: (counters, now) => redis.usage(counters, now),
      previousAction: (key) => redis.previousAction(key),
      setPreviousAction: (keys, action) => redis.setPreviousAction(keys, action),
    };
    const { call } = await lineageRuntime(threeCalls);
    await call('write_file');
    expect(await commandsOf(() => call('read_file'))).toEqual(['GET', 'EVALSHA', 'EVALSHA']);
  });
});
