import { describe, expect, it } from 'vitest';
import type { RevocationFeed } from '../ports/revocation-feed.js';
import { createInMemoryRevocationFeed } from '../stores/in-memory-revocation-feed.js';
import { createInMemoryUsageStore } from './in-memory-usage-store.js';
import { dataOf, INTENT, rejection, setup } from './__fixtures__/runtime-setup.js';
import { REVOCATION_STALE_CODE, REVOKED_CODE } from './revocation-check.js';

const READ = { path: '/workspace/a.txt' };
const BY = { reason: 'runaway agent', revokedBy: 'ops' };

async function calling(feed: RevocationFeed, extra: Parameters<typeof setup>[0] = {}) {
  const context = setup({ revocations: feed, ...extra });
  await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
  return context;
}

describe('the gate and the revocation feed', () => {
  it('runs calls while nothing is revoked', async () => {
    const context = await calling(createInMemoryRevocationFeed());
    await context.runtime.call('read_file', context.tool, { args: READ, provenance: 'USER_TRUSTED' });
    expect(context.tool).toHaveBeenCalledTimes(1);
  });

  it('denies every call of a revoked tenant, audited as a DENY decision with code REVOKED, and the tool does not run', async () => {
    const feed = createInMemoryRevocationFeed();
    const context = await calling(feed);
    await feed.revoke({ tenant: 'acme' }, BY);
    const error = await rejection(
      context.runtime.call('read_file', context.tool, { args: READ, provenance: 'USER_TRUSTED' }),
    );
    expect(error).toMatchObject({ code: 'POLICY_DENY', details: { code: REVOKED_CODE } });
    expect(error.message).toContain('tenant "acme" was revoked by ops (runaway agent)');
    expect(context.tool).not.toHaveBeenCalled();
    expect(dataOf(context.audit.events, 'decision.made').at(-1)).toMatchObject({
      decision: 'DENY',
      code: REVOKED_CODE,
    });
    expect(dataOf(context.audit.events, 'token.issued')).toEqual([]);
  });

  it('denies a revoked session and a revoked lineage, and lets other sessions of the tenant run', async () => {
    const feed = createInMemoryRevocationFeed();
    const usage = createInMemoryUsageStore();
    await feed.revoke({ tenant: 'acme', session: 'session-1' }, BY);
    const revokedSession = await calling(feed);
    expect(
      await rejection(
        revokedSession.runtime.call('read_file', revokedSession.tool, {
          args: READ,
          provenance: 'USER_TRUSTED',
        }),
      ),
    ).toMatchObject({ details: { code: REVOKED_CODE } });
    await feed.revoke({ tenant: 'acme', lineage: 'conversation-9' }, BY);
    const revokedLineage = await calling(feed, { sessionId: 'session-2', lineage: 'conversation-9', usage });
    expect(
      await rejection(
        revokedLineage.runtime.call('read_file', revokedLineage.tool, {
          args: READ,
          provenance: 'USER_TRUSTED',
        }),
      ),
    ).toMatchObject({ details: { code: REVOKED_CODE } });
    const other = await calling(feed, { sessionId: 'session-3', lineage: 'conversation-10', usage });
    await other.runtime.call('read_file', other.tool, { args: READ, provenance: 'USER_TRUSTED' });
    expect(other.tool).toHaveBeenCalledTimes(1);
    expect(revokedSession.tool).not.toHaveBeenCalled();
    expect(revokedLineage.tool).not.toHaveBeenCalled();
  });

  it('denies at issue a call whose tenant was revoked while its escalation waited, even though it was approved', async () => {
    const feed = createInMemoryRevocationFeed();
    const context = await calling(feed, {
      escalation: {
        requestApproval: async () => {
          await feed.revoke({ tenant: 'acme' }, BY);
          return { approved: true, approver: 'alice', provenance: 'USER_TRUSTED' };
        },
      },
    });
    const error = await rejection(
      context.runtime.call('send_email', context.tool, {
        args: { to: 'a@example.com' },
        provenance: 'USER_TRUSTED',
      }),
    );
    expect(error).toMatchObject({ code: 'POLICY_DENY', details: { code: REVOKED_CODE, stage: 'issue' } });
    expect(context.tool).not.toHaveBeenCalled();
    expect(dataOf(context.audit.events, 'token.issued')).toEqual([]);
    expect(dataOf(context.audit.events, 'token.revoked').at(-1)).toMatchObject({
      code: REVOKED_CODE,
      stage: 'issue',
    });
  });

  it('denies at consume a token authorised before the revocation; the tool does not run', async () => {
    const feed = createInMemoryRevocationFeed();
    const context = await calling(feed);
    const { token, index } = await context.runtime.authorizeCall('read_file', {
      args: READ,
      provenance: 'USER_TRUSTED',
    });
    await feed.revoke({ tenant: 'acme', session: 'session-1' }, BY);
    const error = await rejection(context.runtime.gate.execute(token, context.tool, { index, args: READ }));
    expect(error).toMatchObject({ code: 'POLICY_DENY', details: { code: REVOKED_CODE, stage: 'consume' } });
    expect(context.tool).not.toHaveBeenCalled();
    expect(dataOf(context.audit.events, 'token.consumed')).toEqual([]);
    expect(dataOf(context.audit.events, 'token.revoked').at(-1)).toMatchObject({
      stage: 'consume',
      code: REVOKED_CODE,
    });
  });

  it('denies with REVOCATION_STALE when the feed cannot vouch for the call, or throws', async () => {
    for (const check of [
      () => ({ ok: false as const, reason: 'stale' as const, ageMs: 5_000, boundMs: 1_000 }),
      () => {
        throw new Error('the view is broken');
      },
      () => 'yes' as never,
    ]) {
      const feed: RevocationFeed = { ...createInMemoryRevocationFeed(), check };
      const context = await calling(feed);
      const error = await rejection(
        context.runtime.call('read_file', context.tool, { args: READ, provenance: 'USER_TRUSTED' }),
      );
      expect(error.details).toMatchObject({ code: REVOCATION_STALE_CODE });
      expect(context.tool).not.toHaveBeenCalled();
    }
  });

  it('reserves no budget for a revoked call', async () => {
    const feed = createInMemoryRevocationFeed();
    const usage = createInMemoryUsageStore();
    const context = await calling(feed, {
      usage,
      policy: { limits: { read_file: [{ id: 'reads', max: 5, scope: 'tenant' }] } },
    });
    await feed.revoke({ tenant: 'acme' }, BY);
    await rejection(
      context.runtime.call('read_file', context.tool, { args: READ, provenance: 'USER_TRUSTED' }),
    );
    expect(await usage.usage([{ key: 'acme\u0000tenant\u0000acme\u0000reads', max: 5 }], Date.now())).toEqual(
      [0],
    );
  });

  it('refuses a revocations option that is not a feed with CONFIG_INVALID', () => {
    expect(() => setup({ revocations: {} as never })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: { field: 'revocations' } }),
    );
  });
});
