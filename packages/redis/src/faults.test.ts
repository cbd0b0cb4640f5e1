import {
  type ActionRequest,
  ApeError,
  createRuntime,
  type Decision,
  hashCanonical,
  type UsageCounter,
} from '@ape/core';
import { createFakeAuthority, createStubPolicy } from '@ape/core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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

  it('never leaves the action of a call whose begin timed out (SIGSTOP) as the previous action: send_email after read_file stays denied', async () => {
    const usage = new RedisUsageStore({ connection, prefix: uniquePrefix() });
    // read_file -> send_email is forbidden (a tool_transitions rule); write_file is allowed.
    const decide = (request: ActionRequest): Decision =>
      request.action === 'send_email' && request.session?.previousAction === 'read_file' ? 'DENY' : 'ALLOW';
    const budget = { id: 'budget', max: 100, scope: 'lineage' as const };
    const runtime = createRuntime({
      tenant: 'acme',
      policy: createStubPolicy({
        decide,
        limits: { read_file: [budget], write_file: [budget], send_email: [budget] },
      }),
      authority: createFakeAuthority({ tenant: 'acme' }),
      usage,
      lineage: 'conversation-frozen',
      usageTimeoutMs: 300,
    });
    await runtime.setIntent(
      { allowed_actions: ['read_file', 'write_file', 'send_email'], forbidden_actions: [], scope: 'faults' },
      { provenance: 'USER_TRUSTED' },
    );
    const tool = vi.fn(() => 'done');
    const sendEmail = vi.fn(() => 'sent');
    const call = (action: string, run = tool) =>
      runtime.call(action, run, { args: {}, provenance: 'USER_TRUSTED' });
    await until(async () => (await outcome(call('read_file'))) === 'resolved');
    // Loads the undo script, so the runtime's undo below is one command on the wire.
    await usage.undo({ written: { key: 'acme\u0000lineage\u0000warm', version: 'warm' } });
    server.pause();
    try {
      // The begin is on the wire when Redis is frozen: the call is denied, and the runtime sends an
      // undo of its write by version, on the same connection, behind it.
      expect(await outcome(call('write_file'))).toBe('POLICY_DENY');
    } finally {
      server.resume();
    }
    // Redis runs the late begin (which writes write_file), then the undo, then this PING.
    await until(async () => (await outcome(connection.command('test', 'ping', ['PING']))) === 'resolved');
    expect(await usage.previousAction('acme\u0000lineage\u0000conversation-frozen\u0000previous')).toBe(
      'read_file',
    );
    expect(await outcome(call('send_email', sendEmail))).toBe('POLICY_DENY');
    expect(sendEmail).not.toHaveBeenCalled();
    expect(tool).toHaveBeenCalledTimes(1);
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
