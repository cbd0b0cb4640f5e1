import { AuthorityManager } from '@ape/authority';
import { ApeError, createLabeled, createRuntime, hashCanonical, labelOf, unwrapLabeled } from '@ape/core';
import { createRecordingAuditSink, FakeClock } from '@ape/core/testing';
import { compilePolicy } from '@ape/policy';
import { tainted } from '@ape/provenance';
import { describe, expect, it, vi } from 'vitest';

// Issue 16, finding 7: arguments are read by index and by property descriptor in every reader,
// so an array's own `map` or `Symbol.iterator`, a getter or a Proxy cannot show the policy, the
// label walk and the tool different arguments. Real policy, real authority, built packages.

const policy = compilePolicy({
  version: 1,
  name: 'argument-arrays',
  rules: [
    {
      id: 'mail-to-colleagues',
      actions: ['send_email'],
      effect: 'allow',
      when: {
        provenance: ['USER_TRUSTED'],
        args: {
          type: 'object',
          required: ['to'],
          properties: { to: { type: 'array', items: { type: 'string', pattern: '^[a-z]+@example\\.com$' } } },
        },
      },
    },
  ],
});

const intent = { allowed_actions: ['send_email'], forbidden_actions: [], scope: 'mail colleagues' };
const trusted = { provenance: 'USER_TRUSTED' } as const;

async function session() {
  const clock = new FakeClock();
  const audit = createRecordingAuditSink();
  const runtime = createRuntime({
    tenant: 'acme',
    policy,
    authority: new AuthorityManager({ tenant: 'acme', clock }),
    audit,
    clock,
    sessionId: 'argument-arrays',
  });
  await runtime.setIntent(intent, trusted);
  await runtime.submitPlan([{ action_id: 'send_email' }], trusted);
  return { runtime, audit };
}

async function rejection(promise: Promise<unknown>): Promise<ApeError> {
  try {
    await promise;
  } catch (error) {
    if (ApeError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

/** An array whose element 0 is a getter: a colleague for the first `honest` reads, then mallory. */
function shiftyArray(honest: number): string[] {
  const to: string[] = [];
  let reads = 0;
  Object.defineProperty(to, 0, {
    get: () => (reads++ < honest ? 'alice@example.com' : 'mallory@evil.example'),
    enumerable: true,
    configurable: true,
  });
  return to;
}

describe('arrays in arguments are read by index, once, the same way everywhere', () => {
  it('refuses an array with its own map and a getter element (ARGS_INVALID); the tool never runs', async () => {
    const { runtime, audit } = await session();
    const to = shiftyArray(1);
    // Before: `value.map` was this own method, which returned the original (uncopied) array, so the
    // policy read the getter once (alice) and the tool read it again (mallory).
    Object.defineProperty(to, 'map', { value: () => to });
    const send = vi.fn();
    const error = await rejection(runtime.executeStep(0, send, { args: { to }, ...trusted }));
    expect(error.code).toBe('ARGS_INVALID');
    expect(error.message).toContain('accessor property');
    expect(send).not.toHaveBeenCalled();
    expect(audit.ofType('decision.made')).toHaveLength(0);
  });

  it.each([1, 2, 3, 5])('refuses a getter element that is honest for its first %i reads', async (honest) => {
    const { runtime } = await session();
    const send = vi.fn();
    const error = await rejection(
      runtime.executeStep(0, send, { args: { to: shiftyArray(honest) }, ...trusted }),
    );
    expect(error.code).toBe('ARGS_INVALID');
    expect(send).not.toHaveBeenCalled();
  });

  it('finds an untrusted label hidden behind an own Symbol.iterator; the tool never runs', async () => {
    const { runtime, audit } = await session();
    const to: unknown[] = ['alice@example.com', tainted('bob@example.com', 'https://evil.example/page')];
    Object.defineProperty(to, Symbol.iterator, {
      value: function* () {
        yield 'alice@example.com';
      },
    });
    expect(labelOf({ to }, 'USER_TRUSTED')).toBe('EXTERNAL_UNTRUSTED');
    const send = vi.fn();
    const error = await rejection(runtime.executeStep(0, send, { args: { to }, ...trusted }));
    expect(error.code).toBe('POLICY_DENY');
    expect(send).not.toHaveBeenCalled();
    expect(audit.ofType('decision.made')[0]?.data).toMatchObject({ decision: 'DENY' });
  });

  it('checks the real elements, not what an own map returns; the tool never runs', async () => {
    const { runtime } = await session();
    const to = ['mallory@evil.example'];
    Object.defineProperty(to, 'map', { value: () => ['alice@example.com'] });
    expect(unwrapLabeled({ to })).toEqual({ to: ['mallory@evil.example'] });
    const send = vi.fn();
    const error = await rejection(runtime.executeStep(0, send, { args: { to }, ...trusted }));
    expect(error.code).toBe('POLICY_DENY');
    expect(send).not.toHaveBeenCalled();
  });

  it('refuses a Proxy array that answers each read differently (ARGS_INVALID)', async () => {
    const { runtime } = await session();
    let reads = 0;
    const to = new Proxy(['alice@example.com'], {
      get: (target, key, receiver) =>
        key === '0' && reads++ > 0 ? 'mallory@evil.example' : Reflect.get(target, key, receiver),
    });
    const send = vi.fn();
    const error = await rejection(runtime.executeStep(0, send, { args: { to }, ...trusted }));
    expect(error.code).toBe('ARGS_INVALID');
    expect(send).not.toHaveBeenCalled();
  });

  it('gives the tool exactly the elements the policy checked and the hash covers', async () => {
    const { runtime, audit } = await session();
    const to = ['alice@example.com', createLabeled('bob@example.com', 'USER_TRUSTED')];
    Object.defineProperty(to, 'map', { value: () => [] });
    Object.defineProperty(to, Symbol.iterator, { value: [][Symbol.iterator].bind([]) });
    const send = vi.fn();
    await runtime.executeStep(0, send, { args: { to }, ...trusted });
    expect(send).toHaveBeenCalledTimes(1);
    expect(send.mock.calls[0]?.[0]).toEqual({ to: ['alice@example.com', 'bob@example.com'] });
    expect(hashCanonical(send.mock.calls[0]?.[0])).toBe(
      hashCanonical({ to: ['alice@example.com', 'bob@example.com'] }),
    );
    expect(audit.ofType('decision.made')[0]?.data).toMatchObject({ decision: 'ALLOW' });
  });
});
