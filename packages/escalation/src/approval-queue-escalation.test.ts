import type { ApprovalQueue, ApprovalSettlement, EscalationRequest } from '@ape/core';
import { ApeError, createInMemoryApprovalQueue, hashCanonical } from '@ape/core';
import { runEscalationHandlerContract } from '@ape/core/contracts';
import { describe, expect, it } from 'vitest';
import { makeRequest } from './__fixtures__/requests.js';
import { ApprovalQueueEscalation } from './approval-queue-escalation.js';

runEscalationHandlerContract('ApprovalQueueEscalation', (answer) => {
  const queue = createInMemoryApprovalQueue();
  return {
    handler: new ApprovalQueueEscalation({ queue }),
    answer: async () => {
      // The handler publishes asynchronously; answer once the request is visible, as an approver would.
      for (let attempt = 0; attempt < 100; attempt++) {
        const [pending] = await queue.list();
        if (pending !== undefined) {
          await queue.answer(pending.id, {
            approved: answer === 'approve',
            approver: 'alice',
            provenance: 'USER_TRUSTED',
            binding: pending,
          });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
  };
});

/** Starts a request and resolves, once it is published, to its id and the pending promise. */
async function published(
  handler: ApprovalQueueEscalation,
  queue: ApprovalQueue,
  request: EscalationRequest = makeRequest({ provenance: 'USER_TRUSTED' }),
  signal = new AbortController().signal,
) {
  const pending = handler.requestApproval(request, signal);
  for (let attempt = 0; attempt < 200; attempt++) {
    const [first] = await queue.list();
    if (first !== undefined) return { id: first.id, request: first, pending };
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('the request was never published');
}

describe('ApprovalQueueEscalation', () => {
  it('publishes the exact call (argsHash included) and resumes with the approver identity', async () => {
    const queue = createInMemoryApprovalQueue();
    const ids: string[] = [];
    const handler = new ApprovalQueueEscalation({ queue, onPublished: (id) => ids.push(id) });
    const { id, request, pending } = await published(handler, queue);
    expect(request).toMatchObject({
      tenant: 'acme',
      session: 'session-1',
      stepIndex: 2,
      action: 'deploy_production',
      argsHash: hashCanonical({ target: 'production', replicas: 3 }),
    });
    expect(ids).toEqual([id]);
    await queue.answer(id, {
      approved: true,
      approver: 'bob',
      provenance: 'USER_TRUSTED',
      reason: 'ok',
      binding: request,
    });
    expect(await pending).toEqual({
      approved: true,
      approver: 'bob',
      provenance: 'USER_TRUSTED',
      reason: 'ok',
    });
  });

  it('turns an EXTERNAL_UNTRUSTED approval into a denial', async () => {
    const queue = createInMemoryApprovalQueue();
    const handler = new ApprovalQueueEscalation({ queue });
    const { id, request, pending } = await published(handler, queue);
    await queue.answer(id, {
      approved: true,
      approver: 'mallory',
      provenance: 'EXTERNAL_UNTRUSTED',
      binding: request,
    });
    expect(await pending).toMatchObject({
      approved: false,
      approver: 'mallory',
      provenance: 'EXTERNAL_UNTRUSTED',
    });
  });

  it('refuses a settlement bound to another call even if the queue returns one', async () => {
    const inner = createInMemoryApprovalQueue();
    const lying: ApprovalQueue = {
      ...inner,
      publish: (publication) => inner.publish(publication),
      wait: async (id): Promise<ApprovalSettlement> => ({
        state: 'answered',
        id,
        approved: true,
        approver: 'bob',
        provenance: 'USER_TRUSTED',
        binding: {
          tenant: 'acme',
          session: 'session-1',
          stepIndex: 9,
          action: 'deploy_production',
          argsHash: 'f'.repeat(64),
        },
        settledAt: 0,
      }),
    };
    const result = await new ApprovalQueueEscalation({ queue: lying }).requestApproval(
      makeRequest(),
      new AbortController().signal,
    );
    expect(result).toMatchObject({ approved: false, approver: 'approval-queue' });
    expect(result.reason).toContain('stepIndex differs');
  });

  it('denies as "timeout" when nobody answers in time, and the queue records the timeout', async () => {
    const queue = createInMemoryApprovalQueue();
    const handler = new ApprovalQueueEscalation({ queue, timeoutMs: 50 });
    const { id, pending } = await published(handler, queue);
    expect(await pending).toMatchObject({ approved: false, approver: 'timeout' });
    expect((await queue.get(id))?.settlement?.state).toBe('timeout');
  });

  it('denies as "aborted" when the runtime stops waiting, and cancels the request in the queue', async () => {
    const queue = createInMemoryApprovalQueue();
    const handler = new ApprovalQueueEscalation({ queue });
    const controller = new AbortController();
    const { id, pending } = await published(handler, queue, undefined, controller.signal);
    controller.abort();
    expect(await pending).toMatchObject({ approved: false, approver: 'aborted' });
    expect((await queue.get(id))?.settlement?.state).toBe('cancelled');
  });

  it('denies when an operator cancels the request from another process', async () => {
    const queue = createInMemoryApprovalQueue();
    const handler = new ApprovalQueueEscalation({ queue });
    const { id, pending } = await published(handler, queue);
    await queue.cancel(id, 'operator said no');
    const result = await pending;
    expect(result).toMatchObject({ approved: false, approver: 'approval-queue' });
    expect(result.reason).toContain('operator said no');
  });

  it('denies, naming the failure, when the queue cannot publish', async () => {
    const failing = {
      ...createInMemoryApprovalQueue(),
      publish: async () => {
        throw new Error('Redis is down');
      },
    };
    const result = await new ApprovalQueueEscalation({ queue: failing }).requestApproval(
      makeRequest(),
      new AbortController().signal,
    );
    expect(result).toMatchObject({ approved: false, approver: 'approval-queue' });
    expect(result.reason).toContain('Redis is down');
  });

  it('publishes each argument label so that an approver sees where every argument came from', async () => {
    const queue = createInMemoryApprovalQueue();
    const handler = new ApprovalQueueEscalation({ queue });
    const labelled = makeRequest({
      provenance: 'EXTERNAL_UNTRUSTED',
      argLabels: Object.freeze({ '/target': 'USER_TRUSTED', '/replicas': 'EXTERNAL_UNTRUSTED' }),
    });
    const { id, request, pending } = await published(handler, queue, labelled);
    expect(request.argLabels).toEqual({ '/target': 'USER_TRUSTED', '/replicas': 'EXTERNAL_UNTRUSTED' });
    await queue.answer(id, {
      approved: false,
      approver: 'bob',
      provenance: 'USER_TRUSTED',
      binding: request,
    });
    expect((await pending).approved).toBe(false);
  });

  it('ignores an onPublished callback that throws', async () => {
    const queue = createInMemoryApprovalQueue();
    const handler = new ApprovalQueueEscalation({
      queue,
      onPublished: () => {
        throw new Error('broken notifier');
      },
    });
    const { id, request, pending } = await published(handler, queue);
    await queue.answer(id, { approved: true, approver: 'bob', provenance: 'USER_TRUSTED', binding: request });
    expect((await pending).approved).toBe(true);
  });

  it('refuses malformed options with ARGS_INVALID', () => {
    const codeOf = (make: () => unknown): string | undefined => {
      try {
        make();
      } catch (error) {
        return ApeError.isInstance(error) ? error.code : 'not an ApeError';
      }
      return undefined;
    };
    expect(codeOf(() => new ApprovalQueueEscalation({ queue: {} as never }))).toBe('ARGS_INVALID');
    expect(
      codeOf(() => new ApprovalQueueEscalation({ queue: createInMemoryApprovalQueue(), timeoutMs: 0 })),
    ).toBe('ARGS_INVALID');
    expect(
      codeOf(
        () => new ApprovalQueueEscalation({ queue: createInMemoryApprovalQueue(), onPublished: 1 as never }),
      ),
    ).toBe('ARGS_INVALID');
  });
});
