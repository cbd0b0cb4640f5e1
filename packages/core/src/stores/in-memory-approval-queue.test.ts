import { describe, expect, it } from 'vitest';
import { hashCanonical } from '../canonical-json.js';
import { ApeError } from '../errors.js';
import { runApprovalQueueContract } from '../contracts/approval-queue-contract.js';
import { createInMemoryApprovalQueue } from './in-memory-approval-queue.js';

runApprovalQueueContract('InMemoryApprovalQueue', () => {
  const queue = createInMemoryApprovalQueue();
  return { queue, peer: queue };
});

describe('InMemoryApprovalQueue', () => {
  it('refuses to wait for a request it never published with RUNTIME_STATE', async () => {
    const queue = createInMemoryApprovalQueue();
    const error = await queue
      .wait('missing', new AbortController().signal)
      .catch((caught: unknown) => caught);
    expect(ApeError.isInstance(error) ? error.code : error).toBe('RUNTIME_STATE');
  });

  it('forgets a settled request after its retention', async () => {
    const queue = createInMemoryApprovalQueue({ retentionMs: 20 });
    const args = { a: 1 };
    const id = await queue.publish({
      tenant: 'acme',
      session: 's',
      stepIndex: 0,
      action: 'x',
      argsHash: hashCanonical(args),
      args,
      provenance: 'USER_TRUSTED',
      decision: { decision: 'ESCALATE', rules: [], reason: 'r', policy: 'p' },
      expiresAt: Date.now() + 60_000,
    });
    await queue.cancel(id, 'done');
    expect(await queue.get(id)).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await queue.get(id)).toBeUndefined();
  });
});
