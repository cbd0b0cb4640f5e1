import { hashCanonical } from '@ape/core';
import { createRedisConnection, RedisApprovalQueue, RedisRevocationFeed } from '@ape/redis';
import { startRedisServer, type TestRedisServer } from '@ape/redis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../__fixtures__/test-io.js';

let server: TestRedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server.stop();
});

let prefixes = 0;
function prefix(): string {
  prefixes += 1;
  return `cli${prefixes}:`;
}

async function withQueue<T>(keyPrefix: string, body: (queue: RedisApprovalQueue) => Promise<T>): Promise<T> {
  const connection = createRedisConnection({ url: server.url, timeoutMs: 2_000 });
  try {
    return await body(new RedisApprovalQueue({ connection, prefix: keyPrefix, pollMs: 50 }));
  } finally {
    await connection.close();
  }
}

function publication(args: Record<string, unknown> = { to: 'cfo@example.com' }) {
  return {
    tenant: 'acme',
    session: 'session-1',
    stepIndex: 3,
    action: 'send_email',
    argsHash: hashCanonical(args),
    args,
    provenance: 'EXTERNAL_UNTRUSTED' as const,
    decision: {
      decision: 'ESCALATE' as const,
      rules: ['mail-needs-a-human'],
      reason: 'mail needs a human',
      policy: 'p',
    },
    expiresAt: Date.now() + 60_000,
  };
}

describe('ape approve / ape deny', () => {
  it('approves a request another process waits for, which resumes with the approver and reason', async () => {
    const keyPrefix = prefix();
    await withQueue(keyPrefix, async (queue) => {
      const id = await queue.publish(publication());
      const waiting = queue.wait(id, new AbortController().signal);
      const result = await run([
        'approve',
        id,
        '--redis',
        server.url,
        '--prefix',
        keyPrefix,
        '--approver',
        'alice',
        '--reason',
        'expected mail',
      ]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toContain(`approved ${id} as alice`);
      expect(result.stdout).toContain('acme/session-1 step 3: send_email');
      expect(await waiting).toMatchObject({
        state: 'answered',
        approved: true,
        approver: 'alice',
        provenance: 'USER_TRUSTED',
        reason: 'expected mail',
      });
    });
  });

  it('denies with --json and prints the settlement', async () => {
    const keyPrefix = prefix();
    await withQueue(keyPrefix, async (queue) => {
      const id = await queue.publish(publication());
      const result = await run([
        'deny',
        id,
        '--redis',
        server.url,
        '--prefix',
        keyPrefix,
        '--approver',
        'bob',
        '--json',
      ]);
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout);
      expect(report).toMatchObject({
        id,
        ok: true,
        settlement: { state: 'answered', approved: false, approver: 'bob' },
      });
      expect(report.request).toMatchObject({
        tenant: 'acme',
        action: 'send_email',
        args: { to: 'cfo@example.com' },
      });
    });
  });

  it('exits 1 when the request was already answered, and the second answer does not count', async () => {
    const keyPrefix = prefix();
    await withQueue(keyPrefix, async (queue) => {
      const id = await queue.publish(publication());
      expect(
        (await run(['deny', id, '--redis', server.url, '--prefix', keyPrefix, '--approver', 'bob'])).code,
      ).toBe(0);
      const late = await run([
        'approve',
        id,
        '--redis',
        server.url,
        '--prefix',
        keyPrefix,
        '--approver',
        'mallory',
      ]);
      expect(late.code).toBe(1);
      expect(late.stderr).toContain('already denied by bob');
      expect((await queue.get(id))?.settlement).toMatchObject({ approved: false, approver: 'bob' });
    });
  });

  it('exits 1 for a cancelled request, saying why it was cancelled, in text and --json', async () => {
    const keyPrefix = prefix();
    await withQueue(keyPrefix, async (queue) => {
      const id = await queue.publish(publication());
      expect((await queue.cancel(id, 'session ended')).ok).toBe(true);
      const fleet = ['--redis', server.url, '--prefix', keyPrefix, '--approver', 'alice'];
      const late = await run(['approve', id, ...fleet]);
      expect(late.code).toBe(1);
      expect(late.stderr).toMatch(/^ape: [^\n]*it was already cancelled \(session ended\)[^\n]*\n$/);
      const json = await run(['deny', id, ...fleet, '--json']);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({
        id,
        ok: false,
        reason: 'settled',
        settlement: { state: 'cancelled', reason: 'session ended' },
      });
    });
  });

  it('exits 1 for an unknown request id', async () => {
    const result = await run([
      'approve',
      'acme/00000000-0000-4000-8000-000000000000',
      '--redis',
      server.url,
      '--approver',
      'a',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no approval request');
    const json = await run([
      'deny',
      'acme/00000000-0000-4000-8000-000000000000',
      '--redis',
      server.url,
      '--approver',
      'a',
      '--json',
    ]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      id: 'acme/00000000-0000-4000-8000-000000000000',
      ok: false,
      reason: 'unknown',
    });
  });

  it('exits 2 when Redis cannot be reached, naming the address but not the password', async () => {
    const result = await run([
      'approve',
      'acme/00000000-0000-4000-8000-000000000000',
      '--redis',
      'redis://u:s3cret@127.0.0.1:1',
      '--approver',
      'a',
      '--timeout',
      '200',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('redis://127.0.0.1:1');
    expect(result.stderr).not.toContain('s3cret');
  });

  it('exits 2 without --approver or with a malformed --timeout', async () => {
    expect((await run(['approve', 'x', '--redis', server.url])).code).toBe(2);
    expect(
      (await run(['approve', 'x', '--redis', server.url, '--approver', 'a', '--timeout', 'soon'])).code,
    ).toBe(2);
  });
});

describe('ape approvals list', () => {
  it('lists pending requests with their calls, escaping terminal control characters', async () => {
    const keyPrefix = prefix();
    await withQueue(keyPrefix, async (queue) => {
      const id = await queue.publish(publication({ to: 'x@example.com\u001b[2J' }));
      const result = await run(['approvals', 'list', '--redis', server.url, '--prefix', keyPrefix]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^ID\s+EXPIRES\s+CALL/);
      expect(result.stdout).toContain(id);
      expect(result.stdout).not.toContain('\u001b');
      const json = JSON.parse(
        (await run(['approvals', 'list', '--redis', server.url, '--prefix', keyPrefix, '--json'])).stdout,
      );
      expect(json.approvals).toHaveLength(1);
      expect(json.approvals[0]).toMatchObject({
        id,
        tenant: 'acme',
        stepIndex: 3,
        rules: ['mail-needs-a-human'],
      });
    });
  });

  it('says so when nothing is pending', async () => {
    const result = await run([
      'approvals',
      'list',
      '--redis',
      server.url,
      '--prefix',
      prefix(),
      '--tenant',
      'acme',
    ]);
    expect(result).toMatchObject({ code: 0, stdout: 'no pending escalations\n' });
  });
});

describe('ape revoke', () => {
  it('revokes a whole tenant in a process watching it, and --lift brings it back', async () => {
    const keyPrefix = prefix();
    const connection = createRedisConnection({ url: server.url, timeoutMs: 500 });
    const feed = new RedisRevocationFeed({ connection, prefix: keyPrefix, tenants: ['acme'], refreshMs: 50 });
    try {
      await feed.ready();
      const revoked = await run([
        'revoke',
        '--tenant',
        'acme',
        '--redis',
        server.url,
        '--prefix',
        keyPrefix,
        '--reason',
        'abuse',
      ]);
      expect(revoked).toMatchObject({ code: 0 });
      expect(revoked.stdout).toContain('revoked tenant acme (every session)');
      await expect
        .poll(() => feed.check({ tenant: 'acme', session: 's' }), { timeout: 5_000 })
        .toMatchObject({
          ok: false,
          reason: 'revoked',
          revocation: { reason: 'abuse', revokedBy: 'ape revoke' },
        });
      expect(
        (await run(['revoke', '--tenant', 'acme', '--redis', server.url, '--prefix', keyPrefix, '--lift']))
          .code,
      ).toBe(0);
      await expect
        .poll(() => feed.check({ tenant: 'acme', session: 's' }), { timeout: 5_000 })
        .toEqual({ ok: true });
      const again = await run([
        'revoke',
        '--tenant',
        'acme',
        '--redis',
        server.url,
        '--prefix',
        keyPrefix,
        '--lift',
      ]);
      expect(again.code).toBe(1);
    } finally {
      await feed.close();
      await connection.close();
    }
  });

  it('revokes one session with --json and refuses --lineage with --session', async () => {
    const keyPrefix = prefix();
    const result = await run([
      'revoke',
      '--tenant',
      'acme',
      '--session',
      's1',
      '--redis',
      server.url,
      '--prefix',
      keyPrefix,
      '--json',
    ]);
    expect(JSON.parse(result.stdout)).toMatchObject({
      revoked: true,
      target: { tenant: 'acme', session: 's1' },
    });
    const both = await run([
      'revoke',
      '--tenant',
      'acme',
      '--session',
      's1',
      '--lineage',
      'l',
      '--redis',
      server.url,
    ]);
    expect(both.code).toBe(2);
  });
  it('revokes and lifts a lineage and a session by name, and reports a --lift with --json', async () => {
    const keyPrefix = prefix();
    const fleet = ['--redis', server.url, '--prefix', keyPrefix];
    const lineage = await run(['revoke', '--tenant', 'acme', '--lineage', 'agent-7', ...fleet]);
    expect(lineage.code).toBe(0);
    expect(lineage.stdout).toBe(
      'revoked lineage agent-7 of tenant acme: every process stops its next call\n',
    );
    const session = await run(['revoke', '--tenant', 'acme', '--session', 's9', ...fleet]);
    expect(session.stdout).toBe('revoked session s9 of tenant acme: every process stops its next call\n');

    const lifted = await run(['revoke', '--tenant', 'acme', '--lineage', 'agent-7', '--lift', ...fleet]);
    expect(lifted.code).toBe(0);
    expect(lifted.stdout).toBe('lifted the revocation of lineage agent-7 of tenant acme\n');
    const liftedJson = await run([
      'revoke',
      '--tenant',
      'acme',
      '--session',
      's9',
      '--lift',
      '--json',
      ...fleet,
    ]);
    expect(liftedJson.code).toBe(0);
    expect(JSON.parse(liftedJson.stdout)).toEqual({
      lifted: true,
      target: { tenant: 'acme', session: 's9' },
    });

    const nothing = await run([
      'revoke',
      '--tenant',
      'acme',
      '--session',
      's9',
      '--lift',
      '--json',
      ...fleet,
    ]);
    expect(nothing.code).toBe(1);
    expect(JSON.parse(nothing.stdout)).toEqual({ lifted: false, target: { tenant: 'acme', session: 's9' } });
    expect(nothing.stderr).toBe('ape: nothing to lift: session s9 of tenant acme was not revoked\n');
  });
});
