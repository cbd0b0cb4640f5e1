import { ApeError, hashCanonical, type UsageCounter } from '@ape/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniquePrefix } from './__fixtures__/server.js';
import { RedisApprovalQueue } from './approval-queue.js';
import { createRedisConnection, type RedisConnection } from './connection.js';
import { RedisRevocationFeed } from './revocation-feed.js';
import { startRedisServer, type TestRedisServer } from './testing/redis-server.js';
import { RedisUsageStore } from './usage-store.js';

// Each test breaks the server in one way and checks two things: every operation settles with
// STORE_UNAVAILABLE (never a hang, never a success it did not record), and the same objects work
// again once the server is back, without being recreated.

let server: TestRedisServer;
let connection: RedisConnection;

beforeAll(async () => {
  server = await startRedisServer();
  connection = createRedisConnection({ url: server.url, timeoutMs: 250 });
  // The first command also opens the connection, which a busy machine may not do within 250 ms.
  await until(async () => (await outcome(connection.command('test', 'ping', ['PING']))) === 'resolved');
});

afterAll(async () => {
  await connection.close();
  await server.stop();
});

const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);

/** Settles `promise` into its error code or 'resolved'; fails the test if it hangs (a guard, not a measurement). */
async function outcome(promise: Promise<unknown>): Promise<string> {
  let guard: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<string>((resolve) => {
    guard = setTimeout(() => resolve('hung'), 10_000);
  });
  const settled = promise.then(
    () => 'resolved',
    (error: unknown) => (ApeError.isInstance(error) ? error.code : `not an ApeError: ${String(error)}`),
  );
  try {
    return await Promise.race([settled, hang]);
  } finally {
    clearTimeout(guard);
  }
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the condition never held');
}

function acquireOnce(store: RedisUsageStore, counter: UsageCounter, now: number): Promise<string> {
  return outcome(
    store.acquire({ counters: [counter], now }).then((result) => {
      if (!result.ok) throw new Error('no room');
    }),
  );
}

describe('Redis faults at store level', () => {
  it('fails every usage operation with STORE_UNAVAILABLE while Redis is stopped, and recovers when it restarts', async () => {
    const store = new RedisUsageStore({ connection, prefix: uniquePrefix() });
    const counter: UsageCounter = { key: 'acme\u0000tenant\u0000acme\u0000mail', max: 100, windowMs: 60_000 };
    await until(async () => (await acquireOnce(store, counter, T0)) === 'resolved');
    await server.kill();
    expect(await acquireOnce(store, counter, T0 + 1)).toBe('STORE_UNAVAILABLE');
    expect(await outcome(store.usage([counter], T0 + 1))).toBe('STORE_UNAVAILABLE');
    expect(await outcome(store.previousAction('acme\u0000lineage\u0000l'))).toBe('STORE_UNAVAILABLE');
    expect(await outcome(store.setPreviousAction(['acme\u0000lineage\u0000l'], 'x'))).toBe(
      'STORE_UNAVAILABLE',
    );
    await server.start();
    await until(async () => (await acquireOnce(store, counter, T0 + 2)) === 'resolved');
    // A restart without persistence starts empty: the scripts are loaded again (NOSCRIPT) on their own.
    expect(await store.usage([counter], T0 + 3)).toEqual([1]);
  });

  it('fails with STORE_UNAVAILABLE while Redis is frozen (SIGSTOP) and never admits more than max after it thaws', async () => {
    const store = new RedisUsageStore({ connection, prefix: uniquePrefix() });
    const counter: UsageCounter = { key: 'acme\u0000tenant\u0000acme\u0000paused', max: 3 };
    await until(async () => (await acquireOnce(store, counter, T0)) === 'resolved');
    server.pause();
    try {
      const during = await Promise.all(Array.from({ length: 5 }, () => acquireOnce(store, counter, T0 + 1)));
      expect(during).toEqual(Array(5).fill('STORE_UNAVAILABLE'));
    } finally {
      server.resume();
    }
    await until(async () => (await outcome(store.usage([counter], T0 + 2))) === 'resolved');
    // Commands already on the wire when Redis froze may run when it thaws: they were reported as
    // failures (denied), so the counter can only over-count; it never admits more than max.
    const results = await Promise.all(Array.from({ length: 5 }, () => acquireOnce(store, counter, T0 + 3)));
    const [used] = await store.usage([counter], T0 + 3);
    expect(used).toBeLessThanOrEqual(3);
    expect(results.filter((result) => result === 'resolved').length).toBeLessThanOrEqual(2);
  });

  it('lets a revocation view go stale (fail closed) while Redis is frozen, and fresh again after', async () => {
    const feed = new RedisRevocationFeed({
      connection,
      prefix: uniquePrefix(),
      tenants: ['acme'],
      maxStalenessMs: 600,
    });
    try {
      await feed.ready();
      expect(feed.check({ tenant: 'acme', session: 's' })).toEqual({ ok: true });
      server.pause();
      try {
        await new Promise((resolve) => setTimeout(resolve, 900));
        expect(feed.check({ tenant: 'acme', session: 's' })).toMatchObject({ ok: false, reason: 'stale' });
        expect(await outcome(feed.revoke({ tenant: 'acme' }, { reason: 'r', revokedBy: 'ops' }))).toBe(
          'STORE_UNAVAILABLE',
        );
      } finally {
        server.resume();
      }
      // The revocation was on the wire when Redis froze, so it takes effect when Redis thaws: a failed
      // revoke may still hold (retrying it is harmless), and the view is fresh again either way.
      await until(async () => {
        const status = feed.check({ tenant: 'acme', session: 's' });
        return !status.ok && status.reason === 'revoked';
      });
    } finally {
      await feed.close();
    }
  });

  it('fails publish with STORE_UNAVAILABLE while Redis is stopped and answers again after a restart', async () => {
    const queue = new RedisApprovalQueue({ connection, prefix: uniquePrefix(), pollMs: 50 });
    const args = { to: 'x@example.com' };
    const publication = {
      tenant: 'acme',
      session: 's',
      stepIndex: 0,
      action: 'send_email',
      argsHash: hashCanonical(args),
      args,
      provenance: 'USER_TRUSTED' as const,
      decision: { decision: 'ESCALATE' as const, rules: [], reason: 'r', policy: 'p' },
      expiresAt: Date.now() + 60_000,
    };
    await server.kill();
    expect(await outcome(queue.publish(publication))).toBe('STORE_UNAVAILABLE');
    expect(await outcome(queue.list())).toBe('STORE_UNAVAILABLE');
    await server.start();
    let id = '';
    await until(async () => {
      id = await queue.publish(publication).catch(() => '');
      return id !== '';
    });
    expect((await queue.list({ tenant: 'acme' })).map((request) => request.id)).toEqual([id]);
  });

  it('fails a waiter with STORE_UNAVAILABLE when Redis is down at its deadline, never with an answer', async () => {
    const queue = new RedisApprovalQueue({ connection, prefix: uniquePrefix(), pollMs: 50 });
    const args = {};
    const id = await queue.publish({
      tenant: 'acme',
      session: 's',
      stepIndex: 0,
      action: 'deploy',
      argsHash: hashCanonical(args),
      args,
      provenance: 'USER_TRUSTED',
      decision: { decision: 'ESCALATE', rules: [], reason: 'r', policy: 'p' },
      expiresAt: Date.now() + 700,
    });
    const waiting = outcome(queue.wait(id, new AbortController().signal));
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.pause();
    try {
      expect(await waiting).toBe('STORE_UNAVAILABLE');
    } finally {
      server.resume();
    }
  });
});
