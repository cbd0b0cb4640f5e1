import { describe, expect, it } from 'vitest';
import { rejectionCode, withDisposed } from './contract-support.js';
import type { RevocationFeed, RevocationStatus, RevocationSubject } from '../ports/revocation-feed.js';

/** What the factory given to {@link runRevocationFeedContract} returns. */
export interface RevocationFeedContractSubject {
  /** The feed under test, with no revocations, watching (at least) the tenants `acme` and `other`. */
  readonly feed: RevocationFeed;
  /**
   * A second feed over the same shared state, as another process would hold it. A single-process
   * feed returns the same object as `feed`.
   */
  readonly peer: RevocationFeed;
  /** The bound within which the peer must see a revocation, in milliseconds. */
  readonly boundMs: number;
  /** Releases connections and servers; called after each test. */
  readonly dispose?: () => void | Promise<void>;
}

const BY = Object.freeze({ reason: 'contract test', revokedBy: 'operator' });

/** Polls `feed.check(subject)` until `accept` holds or `boundMs` (plus scheduling slack) passes. */
async function within(
  feed: RevocationFeed,
  subject: RevocationSubject,
  boundMs: number,
  accept: (status: RevocationStatus) => boolean,
): Promise<RevocationStatus> {
  const deadline = Date.now() + boundMs * 3 + 500;
  let status = feed.check(subject);
  while (!accept(status) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    status = feed.check(subject);
  }
  return status;
}

const revoked = (status: RevocationStatus): boolean => !status.ok && status.reason === 'revoked';
const allowed = (status: RevocationStatus): boolean => status.ok;

/**
 * The contract every {@link RevocationFeed} must pass, as a vitest suite. Call it at the top level
 * of a test file with a factory returning a fresh subject.
 *
 * It checks that nothing is revoked at first; that a session, a lineage and a tenant revocation stop
 * exactly what they name (the revoking feed at once, the peer within the bound); that `lift` removes
 * exactly its target; that no two distinct targets are confused (a property over arbitrary text);
 * and that malformed targets throw `ARGS_INVALID`.
 */
export function runRevocationFeedContract(
  name: string,
  create: () => RevocationFeedContractSubject | Promise<RevocationFeedContractSubject>,
): void {
  const withSubject = (body: (subject: RevocationFeedContractSubject) => Promise<void>): Promise<void> =>
    withDisposed(create(), body);

  describe(`RevocationFeed contract: ${name}`, () => {
    it('lets every call through before anything is revoked', async () => {
      await withSubject(async ({ feed }) => {
        expect(feed.check({ tenant: 'acme', session: 's1' })).toEqual({ ok: true });
        expect(feed.check({ tenant: 'other', session: 's1', lineage: 'l1' })).toEqual({ ok: true });
      });
    });

    it('stops one session at once here and within the bound in the peer, and no other session', async () => {
      await withSubject(async ({ feed, peer, boundMs }) => {
        await feed.revoke({ tenant: 'acme', session: 's1' }, BY);
        expect(feed.check({ tenant: 'acme', session: 's1' })).toMatchObject({
          ok: false,
          reason: 'revoked',
          revocation: {
            target: { tenant: 'acme', session: 's1' },
            reason: 'contract test',
            revokedBy: 'operator',
          },
        });
        expect(revoked(await within(peer, { tenant: 'acme', session: 's1' }, boundMs, revoked))).toBe(true);
        expect(peer.check({ tenant: 'acme', session: 's2' })).toEqual({ ok: true });
        expect(peer.check({ tenant: 'other', session: 's1' })).toEqual({ ok: true });
      });
    });

    it('stops every session of a lineage and leaves sessions of other lineages running', async () => {
      await withSubject(async ({ feed, peer, boundMs }) => {
        await feed.revoke({ tenant: 'acme', lineage: 'conversation-7' }, BY);
        const subject = { tenant: 'acme', session: 'any', lineage: 'conversation-7' };
        expect(revoked(feed.check(subject))).toBe(true);
        expect(revoked(await within(peer, subject, boundMs, revoked))).toBe(true);
        expect(peer.check({ tenant: 'acme', session: 'any', lineage: 'conversation-8' })).toEqual({
          ok: true,
        });
        expect(peer.check({ tenant: 'acme', session: 'any' })).toEqual({ ok: true });
        expect(peer.check({ tenant: 'other', session: 'any', lineage: 'conversation-7' })).toEqual({
          ok: true,
        });
      });
    });

    it('stops a whole tenant and no other tenant (the kill switch)', async () => {
      await withSubject(async ({ feed, peer, boundMs }) => {
        await feed.revoke({ tenant: 'acme' }, BY);
        expect(revoked(feed.check({ tenant: 'acme', session: 'x', lineage: 'y' }))).toBe(true);
        expect(revoked(await within(peer, { tenant: 'acme', session: 'z' }, boundMs, revoked))).toBe(true);
        expect(peer.check({ tenant: 'other', session: 'z' })).toEqual({ ok: true });
        expect((await peer.list('acme')).map((revocation) => revocation.target)).toEqual([
          { tenant: 'acme' },
        ]);
        expect(await peer.list('other')).toEqual([]);
      });
    });

    it('lifts exactly the target it names, in every process within the bound', async () => {
      await withSubject(async ({ feed, peer, boundMs }) => {
        await feed.revoke({ tenant: 'acme' }, BY);
        await feed.revoke({ tenant: 'acme', session: 's1' }, BY);
        expect(await peer.lift({ tenant: 'acme' })).toBe(true);
        expect(await peer.lift({ tenant: 'acme' })).toBe(false);
        expect(allowed(await within(feed, { tenant: 'acme', session: 's2' }, boundMs, allowed))).toBe(true);
        expect(revoked(feed.check({ tenant: 'acme', session: 's1' }))).toBe(true);
      });
    });

    it('keeps a target revoked when it is revoked twice, with the latest reason', async () => {
      await withSubject(async ({ feed }) => {
        await feed.revoke({ tenant: 'acme', session: 's1' }, BY);
        await feed.revoke({ tenant: 'acme', session: 's1' }, { reason: 'again', revokedBy: 'operator' });
        expect(feed.check({ tenant: 'acme', session: 's1' })).toMatchObject({
          revocation: { reason: 'again' },
        });
        expect(await feed.list('acme')).toHaveLength(1);
      });
    });

    it('never confuses two distinct targets, whatever characters sessions and lineages contain', async () => {
      await withSubject(async ({ feed }) => {
        const tricky = ['a', 'a:', ':a', '1:a', '1', 'a\u0000b', 'a\u0000', 'é', 's:5:acme', 'l:4:acme'];
        for (const session of tricky) {
          await feed.revoke({ tenant: 'acme', session }, BY);
          expect(revoked(feed.check({ tenant: 'acme', session }))).toBe(true);
          for (const other of tricky) {
            if (other === session) continue;
            expect(feed.check({ tenant: 'acme', session: other })).toEqual({ ok: true });
            expect(feed.check({ tenant: 'acme', session: other, lineage: session })).toEqual({ ok: true });
          }
          expect(feed.check({ tenant: 'other', session })).toEqual({ ok: true });
          await feed.lift({ tenant: 'acme', session });
        }
      });
    });

    it('refuses malformed targets and details with ARGS_INVALID', async () => {
      await withSubject(async ({ feed }) => {
        expect(await rejectionCode(feed.revoke({ tenant: '' }, BY))).toBe('ARGS_INVALID');
        expect(await rejectionCode(feed.revoke({ tenant: 'acme', session: 's', lineage: 'l' }, BY))).toBe(
          'ARGS_INVALID',
        );
        expect(await rejectionCode(feed.revoke({ tenant: 'acme' }, { reason: '', revokedBy: 'x' }))).toBe(
          'ARGS_INVALID',
        );
        expect(await rejectionCode(feed.lift({ tenant: 'acme', session: '' }))).toBe('ARGS_INVALID');
        expect(feed.check({ tenant: 'acme', session: 's' })).toEqual({ ok: true });
      });
    });
  });
}
