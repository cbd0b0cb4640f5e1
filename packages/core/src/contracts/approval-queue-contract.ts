import { describe, expect, it } from 'vitest';
import { hashCanonical } from '../canonical-json.js';
import { rejectionCode, withDisposed } from './contract-support.js';
import type {
  ApprovalAnswer,
  ApprovalBinding,
  ApprovalPublication,
  ApprovalQueue,
} from '../ports/approval-queue.js';

/** What the factory given to {@link runApprovalQueueContract} returns. */
export interface ApprovalQueueContractSubject {
  /** The queue under test, empty. */
  readonly queue: ApprovalQueue;
  /**
   * A second queue over the same shared state, as another process would hold it (another
   * connection). A single-process queue returns the same object as `queue`.
   */
  readonly peer: ApprovalQueue;
  /** Releases connections and servers; called after each test. */
  readonly dispose?: () => void | Promise<void>;
}

function publication(overrides: Partial<ApprovalPublication> = {}): ApprovalPublication {
  const args = overrides.args ?? { target: 'production', replicas: 3 };
  return {
    tenant: 'acme',
    session: 'session-1',
    stepIndex: 2,
    action: 'deploy_production',
    argsHash: hashCanonical(args),
    args,
    provenance: 'USER_TRUSTED',
    decision: {
      decision: 'ESCALATE',
      rules: ['deploys-need-a-human'],
      reason: 'deploying needs a human',
      policy: 'sha256:contract',
    },
    expiresAt: Date.now() + 60_000,
    ...overrides,
  };
}

function bindingOf(request: ApprovalBinding): ApprovalBinding {
  return {
    tenant: request.tenant,
    session: request.session,
    stepIndex: request.stepIndex,
    action: request.action,
    argsHash: request.argsHash,
  };
}

function answerFor(request: ApprovalBinding, approved: boolean, approver = 'alice'): ApprovalAnswer {
  return { approved, approver, provenance: 'USER_TRUSTED', reason: 'checked', binding: bindingOf(request) };
}

/**
 * The contract every {@link ApprovalQueue} must pass, as a vitest suite. Call it at the top level of
 * a test file: `runApprovalQueueContract('InMemoryApprovalQueue', () => { const queue =
 * createInMemoryApprovalQueue(); return { queue, peer: queue }; })`.
 *
 * It checks publication (fresh ids, frozen copies, listing per tenant), answers from the peer
 * reaching the waiter, exactly-once settlement under concurrent answers, cancellations and timeouts,
 * refusal of answers bound to another call, and that every error path throws `ARGS_INVALID`.
 */
export function runApprovalQueueContract(
  name: string,
  create: () => ApprovalQueueContractSubject | Promise<ApprovalQueueContractSubject>,
): void {
  const withSubject = (body: (subject: ApprovalQueueContractSubject) => Promise<void>): Promise<void> =>
    withDisposed(create(), body);

  describe(`ApprovalQueue contract: ${name}`, () => {
    it('publishes a request under a fresh id that every process can read and list', async () => {
      await withSubject(async ({ queue, peer }) => {
        const first = await queue.publish(publication());
        const second = await queue.publish(publication({ stepIndex: 3 }));
        expect(first).not.toBe(second);
        const record = await peer.get(first);
        expect(record?.settlement).toBeUndefined();
        expect(record?.request).toMatchObject({ ...publication(), id: first, expiresAt: expect.any(Number) });
        expect(typeof record?.request.createdAt).toBe('number');
        expect((await peer.list()).map((request) => request.id).sort()).toEqual([first, second].sort());
      });
    });

    it('lists only the requested tenant when a tenant is given', async () => {
      await withSubject(async ({ queue, peer }) => {
        const mine = await queue.publish(publication());
        await queue.publish(publication({ tenant: 'other' }));
        expect((await peer.list({ tenant: 'acme' })).map((request) => request.id)).toEqual([mine]);
        expect(await peer.list({ tenant: 'nobody' })).toEqual([]);
      });
    });

    it('keeps the published request unchanged when the caller mutates its object afterwards', async () => {
      await withSubject(async ({ queue, peer }) => {
        const args: Record<string, unknown> = { target: 'staging' };
        const input = publication({ args, argsHash: hashCanonical({ target: 'staging' }) });
        const id = await queue.publish(input);
        args['target'] = 'production';
        expect((await peer.get(id))?.request.args).toEqual({ target: 'staging' });
        expect(Object.isFrozen((await queue.get(id))?.request.args)).toBe(true);
      });
    });

    it('resumes the waiter with an answer given through the peer, approver identity included', async () => {
      await withSubject(async ({ queue, peer }) => {
        const request = publication();
        const id = await queue.publish(request);
        const waiting = queue.wait(id, new AbortController().signal);
        const answered = await peer.answer(id, answerFor(request, true, 'bob'));
        expect(answered.ok).toBe(true);
        const settlement = await waiting;
        expect(settlement).toMatchObject({
          state: 'answered',
          id,
          approved: true,
          approver: 'bob',
          provenance: 'USER_TRUSTED',
          reason: 'checked',
          binding: bindingOf(request),
        });
        expect((await peer.get(id))?.settlement).toEqual(settlement);
        expect(await peer.list()).toEqual([]);
      });
    });

    it('delivers a denial to the waiter', async () => {
      await withSubject(async ({ queue, peer }) => {
        const request = publication();
        const id = await queue.publish(request);
        const waiting = queue.wait(id, new AbortController().signal);
        await peer.answer(id, answerFor(request, false));
        expect(await waiting).toMatchObject({ state: 'answered', approved: false, approver: 'alice' });
      });
    });

    it('returns an untrusted approval as stored, labelled EXTERNAL_UNTRUSTED, for the handler to refuse', async () => {
      await withSubject(async ({ queue, peer }) => {
        const request = publication();
        const id = await queue.publish(request);
        const waiting = queue.wait(id, new AbortController().signal);
        await peer.answer(id, { ...answerFor(request, true), provenance: 'EXTERNAL_UNTRUSTED' });
        expect(await waiting).toMatchObject({ approved: true, provenance: 'EXTERNAL_UNTRUSTED' });
      });
    });

    it('settles exactly once: of 40 concurrent answers from two processes one wins, the rest see settled', async () => {
      await withSubject(async ({ queue, peer }) => {
        const request = publication();
        const id = await queue.publish(request);
        const waiting = queue.wait(id, new AbortController().signal);
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, index) =>
            (index % 2 === 0 ? queue : peer).answer(
              id,
              answerFor(request, index % 3 === 0, `approver-${index}`),
            ),
          ),
        );
        const winners = results.filter((result) => result.ok);
        expect(winners).toHaveLength(1);
        const winner = winners[0];
        if (winner?.ok !== true) throw new Error('no winner');
        for (const result of results) {
          if (!result.ok) expect(result).toMatchObject({ reason: 'settled', settlement: winner.settlement });
        }
        expect(await waiting).toEqual(winner.settlement);
      });
    });

    it('lets only one of a racing answer and cancellation take effect', async () => {
      await withSubject(async ({ queue, peer }) => {
        const request = publication();
        const id = await queue.publish(request);
        const [answered, cancelled] = await Promise.all([
          peer.answer(id, answerFor(request, true)),
          queue.cancel(id, 'the session ended'),
        ]);
        expect([answered.ok, cancelled.ok].filter(Boolean)).toHaveLength(1);
      });
    });

    it('refuses an answer bound to another call and leaves the request pending', async () => {
      await withSubject(async ({ queue, peer }) => {
        const request = publication();
        const id = await queue.publish(request);
        for (const [field, value] of [
          ['tenant', 'other'],
          ['session', 'session-2'],
          ['stepIndex', 3],
          ['action', 'delete_everything'],
          ['argsHash', hashCanonical({ target: 'elsewhere' })],
        ] as const) {
          const refused = await peer.answer(id, {
            ...answerFor(request, true),
            binding: { ...bindingOf(request), [field]: value },
          });
          expect(refused).toMatchObject({ ok: false, reason: 'binding_mismatch', field });
        }
        expect((await queue.get(id))?.settlement).toBeUndefined();
        expect((await peer.answer(id, answerFor(request, false))).ok).toBe(true);
      });
    });

    it('answers unknown for an id it never published', async () => {
      await withSubject(async ({ peer }) => {
        expect(await peer.answer('no-such-request', answerFor(publication(), true))).toMatchObject({
          ok: false,
          reason: 'unknown',
        });
        expect(await peer.get('no-such-request')).toBeUndefined();
      });
    });

    it('settles as timeout when expiresAt passes, and refuses a late answer', async () => {
      await withSubject(async ({ queue, peer }) => {
        const request = publication({ expiresAt: Date.now() + 150 });
        const id = await queue.publish(request);
        const settlement = await queue.wait(id, new AbortController().signal);
        expect(settlement).toMatchObject({ state: 'timeout', id });
        expect(await peer.answer(id, answerFor(request, true))).toMatchObject({
          ok: false,
          reason: 'settled',
          settlement: { state: 'timeout' },
        });
      });
    });

    it('settles as cancelled when the waiter aborts, and refuses a later answer', async () => {
      await withSubject(async ({ queue, peer }) => {
        const request = publication();
        const id = await queue.publish(request);
        const controller = new AbortController();
        const waiting = queue.wait(id, controller.signal);
        controller.abort();
        expect(await waiting).toMatchObject({ state: 'cancelled', id });
        expect(await peer.answer(id, answerFor(request, true))).toMatchObject({
          ok: false,
          reason: 'settled',
        });
      });
    });

    it('settles as cancelled at once for a signal aborted before waiting', async () => {
      await withSubject(async ({ queue }) => {
        const id = await queue.publish(publication());
        expect(await queue.wait(id, AbortSignal.abort())).toMatchObject({ state: 'cancelled', id });
      });
    });

    it('cancels a pending request from another process, which resumes the waiter', async () => {
      await withSubject(async ({ queue, peer }) => {
        const id = await queue.publish(publication());
        const waiting = queue.wait(id, new AbortController().signal);
        expect((await peer.cancel(id, 'operator cancelled')).ok).toBe(true);
        expect(await waiting).toMatchObject({ state: 'cancelled', reason: 'operator cancelled' });
        expect(await queue.cancel(id, 'again')).toMatchObject({ ok: false, reason: 'settled' });
      });
    });

    it('refuses a malformed publication with ARGS_INVALID', async () => {
      await withSubject(async ({ queue }) => {
        expect(await rejectionCode(queue.publish(publication({ tenant: '' })))).toBe('ARGS_INVALID');
        expect(await rejectionCode(queue.publish(publication({ stepIndex: -1 })))).toBe('ARGS_INVALID');
        expect(await rejectionCode(queue.publish(publication({ argsHash: 'abc' })))).toBe('ARGS_INVALID');
        expect(await rejectionCode(queue.publish(publication({ provenance: 'TRUSTED' as never })))).toBe(
          'ARGS_INVALID',
        );
        expect(await queue.list()).toEqual([]);
      });
    });

    it('refuses a malformed answer with ARGS_INVALID and keeps the request pending', async () => {
      await withSubject(async ({ queue, peer }) => {
        const request = publication();
        const id = await queue.publish(request);
        expect(await rejectionCode(peer.answer(id, { ...answerFor(request, true), approver: ' ' }))).toBe(
          'ARGS_INVALID',
        );
        expect(
          await rejectionCode(peer.answer(id, { ...answerFor(request, true), provenance: 'ME' as never })),
        ).toBe('ARGS_INVALID');
        expect(
          await rejectionCode(peer.answer(id, { ...answerFor(request, true), approved: 'yes' as never })),
        ).toBe('ARGS_INVALID');
        expect(await rejectionCode(peer.cancel(id, ''))).toBe('ARGS_INVALID');
        expect((await queue.get(id))?.settlement).toBeUndefined();
      });
    });
  });
}
