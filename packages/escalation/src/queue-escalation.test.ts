import type { EscalationResult } from '@ape/core';
import { ApeError } from '@ape/core';
import { runEscalationHandlerContract } from '@ape/core/contracts';
import { FakeClock } from '@ape/core/testing';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeRequest } from './__fixtures__/requests.js';
import type { QueueEscalationEvent } from './queue-escalation.js';
import { QueueEscalation } from './queue-escalation.js';

runEscalationHandlerContract('QueueEscalation', (answer) => {
  const handler = new QueueEscalation();
  return {
    handler,
    answer: () => {
      for (const { id } of handler.pending()) {
        if (answer === 'approve') handler.approve(id, { approver: 'alice' });
        if (answer === 'deny') handler.deny(id, { approver: 'alice' });
      }
    },
  };
});

function thrownCode(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return ApeError.isInstance(error) ? error.code : 'not an ApeError';
  }
  return undefined;
}

function request(queue: QueueEscalation, signal = new AbortController().signal): Promise<EscalationResult> {
  return queue.requestApproval(makeRequest(), signal);
}

function onlyPendingId(queue: QueueEscalation): string {
  const [first, ...rest] = queue.pending();
  if (first === undefined || rest.length > 0)
    throw new Error(`expected one pending escalation, got ${rest.length + (first ? 1 : 0)}`);
  return first.id;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('QueueEscalation pending list', () => {
  it('lists a waiting request with its id, a frozen copy of the request, a summary and its times', async () => {
    const clock = new FakeClock(1_000);
    const queue = new QueueEscalation({ clock, timeoutMs: 5_000 });
    const original = makeRequest({ args: { target: 'production' } });
    const pending = queue.requestApproval(original, new AbortController().signal);
    const [escalation] = queue.pending();
    expect(escalation).toMatchObject({ createdAt: 1_000, expiresAt: 6_000 });
    expect(escalation?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(escalation?.request).toEqual(original);
    expect(escalation?.request).not.toBe(original);
    expect(Object.isFrozen(escalation?.request.args)).toBe(true);
    expect(escalation?.summary).toBe('acme/session-1 step 2: deploy_production(target)');
    queue.deny(escalation?.id ?? '', { approver: 'alice' });
    await pending;
  });

  it('keeps the listed request unchanged when the caller mutates its own object afterwards', async () => {
    const queue = new QueueEscalation();
    const args: Record<string, unknown> = { target: 'staging' };
    const pending = queue.requestApproval(makeRequest({ args }), new AbortController().signal);
    args['target'] = 'production';
    expect(queue.pending()[0]?.request.args['target']).toBe('staging');
    queue.deny(onlyPendingId(queue), { approver: 'alice' });
    await pending;
  });

  it('escapes hostile text in the summary', async () => {
    const queue = new QueueEscalation();
    const pending = queue.requestApproval(
      makeRequest({ action: 'x\n\u001b[31my' }),
      new AbortController().signal,
    );
    expect(queue.pending()[0]?.summary).toContain('x\\n\\x1b[31my');
    queue.deny(onlyPendingId(queue), { approver: 'alice' });
    await pending;
  });

  it('lists requests oldest first and removes them once settled', async () => {
    const queue = new QueueEscalation();
    const first = queue.requestApproval(makeRequest({ stepIndex: 1 }), new AbortController().signal);
    const second = queue.requestApproval(makeRequest({ stepIndex: 2 }), new AbortController().signal);
    const [a, b] = queue.pending();
    expect([a?.request.stepIndex, b?.request.stepIndex]).toEqual([1, 2]);
    queue.approve(a?.id ?? '', { approver: 'alice' });
    expect(await first).toMatchObject({ approved: true });
    expect(queue.pending().map((entry) => entry.id)).toEqual([b?.id]);
    queue.deny(b?.id ?? '', { approver: 'alice' });
    expect(await second).toMatchObject({ approved: false });
    expect(queue.pending()).toEqual([]);
  });

  it('denies a request whose arguments cannot be copied, without queueing it', async () => {
    const queue = new QueueEscalation();
    const result = await queue.requestApproval(
      makeRequest({ args: { run: () => 1 } }),
      new AbortController().signal,
    );
    expect(result).toMatchObject({ approved: false, approver: 'queue', provenance: 'SYSTEM_TRUSTED' });
    expect(queue.pending()).toEqual([]);
  });
});

describe('QueueEscalation answers', () => {
  it('records an approval with the approver, USER_TRUSTED by default, and the reason', async () => {
    const queue = new QueueEscalation();
    const pending = request(queue);
    queue.approve(onlyPendingId(queue), { approver: 'alice', reason: 'checked the diff' });
    expect(await pending).toEqual({
      approved: true,
      approver: 'alice',
      provenance: 'USER_TRUSTED',
      reason: 'checked the diff',
    });
  });

  it('passes an EXTERNAL_UNTRUSTED approval through unchanged, for the runtime to refuse', async () => {
    const queue = new QueueEscalation();
    const pending = request(queue);
    queue.approve(onlyPendingId(queue), { approver: 'email-bot', provenance: 'EXTERNAL_UNTRUSTED' });
    expect(await pending).toMatchObject({ approved: true, provenance: 'EXTERNAL_UNTRUSTED' });
  });

  it('records a denial', async () => {
    const queue = new QueueEscalation();
    const pending = request(queue);
    queue.deny(onlyPendingId(queue), { approver: 'alice', reason: 'not during the freeze' });
    expect(await pending).toMatchObject({
      approved: false,
      approver: 'alice',
      reason: 'not during the freeze',
    });
  });

  it('refuses an unknown id with RUNTIME_STATE', () => {
    const queue = new QueueEscalation();
    expect(thrownCode(() => queue.approve('no-such-id', { approver: 'alice' }))).toBe('RUNTIME_STATE');
    expect(thrownCode(() => queue.deny('no-such-id', { approver: 'alice' }))).toBe('RUNTIME_STATE');
  });

  it('refuses a second answer to the same request with RUNTIME_STATE and keeps the first', async () => {
    const queue = new QueueEscalation();
    const pending = request(queue);
    const id = onlyPendingId(queue);
    queue.deny(id, { approver: 'alice' });
    expect(thrownCode(() => queue.approve(id, { approver: 'mallory' }))).toBe('RUNTIME_STATE');
    expect(await pending).toMatchObject({ approved: false, approver: 'alice' });
  });

  it('refuses an empty approver with ARGS_INVALID and leaves the request pending', async () => {
    const queue = new QueueEscalation();
    const pending = request(queue);
    const id = onlyPendingId(queue);
    expect(thrownCode(() => queue.approve(id, { approver: '' }))).toBe('ARGS_INVALID');
    expect(thrownCode(() => queue.approve(id, {} as { approver: string }))).toBe('ARGS_INVALID');
    expect(queue.pending()).toHaveLength(1);
    queue.deny(id, { approver: 'alice' });
    await pending;
  });

  it('refuses an unknown provenance or a non-string reason with ARGS_INVALID', async () => {
    const queue = new QueueEscalation();
    const pending = request(queue);
    const id = onlyPendingId(queue);
    const badProvenance = { approver: 'alice', provenance: 'ROOT' } as unknown as { approver: string };
    const badReason = { approver: 'alice', reason: 42 } as unknown as { approver: string };
    expect(thrownCode(() => queue.approve(id, badProvenance))).toBe('ARGS_INVALID');
    expect(thrownCode(() => queue.approve(id, badReason))).toBe('ARGS_INVALID');
    expect(queue.pending()).toHaveLength(1);
    queue.deny(id, { approver: 'alice' });
    await pending;
  });
});

describe('QueueEscalation events', () => {
  it('tells subscribers of new and settled requests, until they unsubscribe', async () => {
    const queue = new QueueEscalation();
    const events: QueueEscalationEvent[] = [];
    const unsubscribe = queue.subscribe((event) => events.push(event));
    const pending = request(queue);
    const id = onlyPendingId(queue);
    queue.approve(id, { approver: 'alice' });
    await pending;
    expect(events.map((event) => event.type)).toEqual(['escalation.requested', 'escalation.settled']);
    expect(events[1]).toMatchObject({ id, result: { approved: true, approver: 'alice' } });
    unsubscribe();
    const next = request(queue);
    queue.deny(onlyPendingId(queue), { approver: 'alice' });
    await next;
    expect(events).toHaveLength(2);
  });

  it('lets a subscriber answer from inside the requested event', async () => {
    const queue = new QueueEscalation();
    queue.subscribe((event) => {
      if (event.type === 'escalation.requested') queue.approve(event.escalation.id, { approver: 'auto-ui' });
    });
    expect(await request(queue)).toMatchObject({ approved: true, approver: 'auto-ui' });
  });

  it('survives a subscriber that throws or rejects', async () => {
    const queue = new QueueEscalation();
    queue.subscribe(() => {
      throw new Error('ui crashed');
    });
    queue.subscribe(async () => {
      throw new Error('ui crashed later');
    });
    const pending = request(queue);
    queue.deny(onlyPendingId(queue), { approver: 'alice' });
    expect(await pending).toMatchObject({ approved: false, approver: 'alice' });
  });
});

describe('QueueEscalation waiting', () => {
  it('denies as "timeout" when nobody answers in time and removes the request', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const queue = new QueueEscalation({ timeoutMs: 1_000 });
    const pending = request(queue);
    const id = onlyPendingId(queue);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await pending).toMatchObject({
      approved: false,
      approver: 'timeout',
      provenance: 'SYSTEM_TRUSTED',
    });
    expect(queue.pending()).toEqual([]);
    expect(thrownCode(() => queue.approve(id, { approver: 'alice' }))).toBe('RUNTIME_STATE');
  });

  it('denies as "aborted" when the runtime stops waiting and removes the request', async () => {
    const queue = new QueueEscalation();
    const controller = new AbortController();
    const pending = request(queue, controller.signal);
    controller.abort();
    expect(await pending).toMatchObject({ approved: false, approver: 'aborted' });
    expect(queue.pending()).toEqual([]);
  });

  it('does not queue a request whose signal is already aborted', async () => {
    const queue = new QueueEscalation();
    const listener = vi.fn();
    queue.subscribe(listener);
    expect((await request(queue, AbortSignal.abort())).approved).toBe(false);
    expect(queue.pending()).toEqual([]);
    expect(listener).not.toHaveBeenCalled();
  });
});

describe('QueueEscalation flooding', () => {
  it('denies requests beyond maxPending at once, without listing or announcing them', async () => {
    const queue = new QueueEscalation({ maxPending: 3 });
    const listener = vi.fn();
    const waiting = [request(queue), request(queue), request(queue)];
    queue.subscribe(listener);
    const flooded = await request(queue);
    expect(flooded).toMatchObject({ approved: false, approver: 'queue', provenance: 'SYSTEM_TRUSTED' });
    expect(flooded.reason).toMatch(/queue is full/);
    expect(queue.pending()).toHaveLength(3);
    expect(listener).not.toHaveBeenCalled();
    for (const { id } of queue.pending()) queue.deny(id, { approver: 'alice' });
    await Promise.all(waiting);
  });

  it('accepts new requests again once waiting ones settle', async () => {
    const queue = new QueueEscalation({ maxPending: 1 });
    const first = request(queue);
    queue.deny(onlyPendingId(queue), { approver: 'alice' });
    await first;
    const second = request(queue);
    expect(queue.pending()).toHaveLength(1);
    queue.approve(onlyPendingId(queue), { approver: 'alice' });
    expect((await second).approved).toBe(true);
  });

  it('never holds more than maxPending requests and never approves an unanswered one (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 30 }),
        async (max, count) => {
          const queue = new QueueEscalation({ maxPending: max });
          const controller = new AbortController();
          const results = Array.from({ length: count }, () => request(queue, controller.signal));
          expect(queue.pending()).toHaveLength(Math.min(max, count));
          controller.abort();
          for (const result of await Promise.all(results)) expect(result.approved).toBe(false);
          expect(queue.pending()).toEqual([]);
        },
      ),
    );
  });

  it.each([0, -1, 2.5, Number.NaN])('refuses maxPending %s with ARGS_INVALID', (maxPending) => {
    expect(thrownCode(() => new QueueEscalation({ maxPending }))).toBe('ARGS_INVALID');
  });

  it('refuses a malformed timeout with ARGS_INVALID', () => {
    expect(thrownCode(() => new QueueEscalation({ timeoutMs: 0 }))).toBe('ARGS_INVALID');
  });
});
