import { describe, expect, it, vi } from 'vitest';
import type { UsageAcquireRequest, UsageLimit, UsageStore } from '../ports/usage-store.js';
import type { Decision } from '../types.js';
import {
  dataOf,
  INTENT,
  readStep,
  ready,
  rejection,
  type SetupOptions,
  setup,
  threeCallStoreWith,
} from './__fixtures__/runtime-setup.js';
import { createInMemoryUsageStore } from './in-memory-usage-store.js';

const READ = readStep.args;
const limit = (id: string, max: number): UsageLimit => ({ id, max, scope: 'session' });
const TWO_LIMITS = { read_file: [limit('first', 3), limit('second', 3)] };

async function callsSession(options: SetupOptions) {
  const context = setup(options);
  await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
  const read = () =>
    context.runtime.call('read_file', context.tool, { args: READ, provenance: 'USER_TRUSTED' });
  return { ...context, read };
}

/** A session whose store answers `acquire` with `answer` (given the request) for every read. */
async function acquiring(answer: (request: UsageAcquireRequest) => unknown) {
  const usage = threeCallStoreWith({ acquire: (request) => answer(request) as never });
  return callsSession({ usage, policy: { decisions: { read_file: 'ALLOW' }, limits: TWO_LIMITS } });
}

describe('decision stage: the policy request', () => {
  it('asks the policy without a previous action on the first call, and with it after', async () => {
    const { read, policy } = await callsSession({});
    await read();
    await read();
    const [first, second] = policy.requests;
    expect(Object.hasOwn(first?.session ?? {}, 'previousAction')).toBe(false);
    expect(second?.session?.previousAction).toBe('read_file');
  });

  it('records the fixed ALLOW of disabled enforcement without asking the policy', async () => {
    const context = setup({ mode: 'disabled' });
    await ready(context);
    const asked = context.policy.requests.length;
    await context.runtime.executeStep(0, context.tool, { args: READ });
    expect(context.policy.requests).toHaveLength(asked);
    const [decision] = dataOf(context.audit.events, 'decision.made');
    expect(decision).toMatchObject({
      decision: 'ALLOW',
      rules: [],
      reason: 'Enforcement is disabled; the policy was not consulted.',
      policy: 'stub-policy',
    });
  });
});

describe('decision stage: the previous action from the store', () => {
  it('denies, naming previousAction, when the store does not answer in time', async () => {
    const usage = threeCallStoreWith({ previousAction: () => new Promise<undefined>(() => {}) });
    const { read, tool } = await callsSession({ usage, usageTimeoutMs: 5 });
    const error = await rejection(read());
    expect(error.details['code']).toBe('USAGE_STORE_FAILURE');
    expect(error.message).toContain('did not answer previousAction within 5 ms');
    expect(tool).not.toHaveBeenCalled();
  });

  it('denies when the store throws while reading, without calling the policy', async () => {
    const usage = threeCallStoreWith({
      previousAction: () => {
        throw new Error('store down');
      },
    });
    const { read, tool, policy } = await callsSession({ usage });
    const error = await rejection(read());
    expect(error.details['code']).toBe('USAGE_STORE_FAILURE');
    expect(error.message).toContain('the usage store failed (store down)');
    expect(policy.requests).toHaveLength(0);
    expect(tool).not.toHaveBeenCalled();
  });

  it('decides with the previous action a store answers later (a promise), and runs the tool', async () => {
    const inner = createInMemoryUsageStore();
    const usage = threeCallStoreWith({
      previousAction: (key) => Promise.resolve(inner.previousAction(key)),
      setPreviousAction: (keys, action) => inner.setPreviousAction(keys, action),
    });
    const { read, tool, policy } = await callsSession({ usage });
    expect((await read()).value).toEqual({ echoed: READ });
    expect((await read()).value).toEqual({ echoed: READ });
    expect(tool).toHaveBeenCalledTimes(2);
    expect(policy.requests.map((request) => request.session?.previousAction)).toEqual([
      undefined,
      'read_file',
    ]);
  });

  it('denies when the store answers a previous action that is not a string', async () => {
    const usage = threeCallStoreWith({ previousAction: () => 42 as never });
    const { read, tool } = await callsSession({ usage });
    const error = await rejection(read());
    expect(error.details['code']).toBe('USAGE_STORE_FAILURE');
    expect(error.message).toContain('the usage store failed (the previous action is not a string)');
    expect(tool).not.toHaveBeenCalled();
  });
});

describe('decision stage: acquiring usage', () => {
  it('does not ask the store to acquire for an action without limits', async () => {
    const acquire = vi.fn(createInMemoryUsageStore().acquire);
    const { read, tool } = await callsSession({
      usage: threeCallStoreWith({ acquire }),
      policy: { decisions: { read_file: 'ALLOW' }, limits: { write_file: [limit('writes', 1)] } },
    });
    await read();
    expect(tool).toHaveBeenCalledTimes(1);
    expect(acquire).not.toHaveBeenCalled();
  });

  it('denies, naming acquire, when the store does not answer in time', async () => {
    const usage = threeCallStoreWith({ acquire: () => new Promise<never>(() => {}) });
    const { read, tool } = await callsSession({
      usage,
      usageTimeoutMs: 5,
      policy: { decisions: { read_file: 'ALLOW' }, limits: TWO_LIMITS },
    });
    const error = await rejection(read());
    expect(error.message).toContain('did not answer acquire within 5 ms');
    expect(tool).not.toHaveBeenCalled();
  });

  for (const [what, answer] of [
    ['null', null],
    ['a string', 'ok'],
    ['an object without ok', {}],
    [
      'a function with ok',
      Object.assign(() => undefined, { ok: true, reservation: { id: 'r', keys: [], at: 0 } }),
    ],
  ] as const) {
    it(`denies with USAGE_STORE_FAILURE when acquire answers ${what}`, async () => {
      const { read, tool } = await acquiring(() => answer);
      const error = await rejection(read());
      expect(error.code).toBe('POLICY_DENY');
      expect(error.details['code']).toBe('USAGE_STORE_FAILURE');
      expect(error.message).toContain(
        'the usage store failed (acquire returned something that is not an answer)',
      );
      expect(tool).not.toHaveBeenCalled();
    });
  }

  it('names the limit whose counter the store refused, with the uses it reports', async () => {
    const { read, tool } = await acquiring((request) => ({
      ok: false,
      key: request.counters[1]?.key,
      used: 1,
      max: 3,
    }));
    const error = await rejection(read());
    expect(error.details['rules']).toEqual(['second']);
    expect(error.message).toContain('limit second allows 3 calls per session; 1 used');
    expect(tool).not.toHaveBeenCalled();
  });

  it('names the first limit, at its maximum, when the store refuses an unknown counter without a count', async () => {
    const { read } = await acquiring(() => ({ ok: false, key: 'unknown', used: 'many', max: 3 }));
    const error = await rejection(read());
    expect(error.details['rules']).toEqual(['first']);
    expect(error.message).toContain('limit first allows 3 calls per session; 3 used');
  });
});

describe('decision stage: one store call (begin)', () => {
  it('keeps the policy DENY when the limit is also exhausted', async () => {
    const { inProcess: _inProcess, ...store } = createInMemoryUsageStore();
    const usage: UsageStore = { ...store };
    let decision: Decision = 'ALLOW';
    const { read, tool } = await callsSession({
      usage,
      policy: { decide: () => decision, limits: { read_file: [limit('reads', 1)] } },
    });
    await read();
    decision = 'DENY';
    const error = await rejection(read());
    expect(error.details['rules']).toEqual(['stub:read_file']);
    expect(error.message).toContain('stub policy: DENY');
    expect(tool).toHaveBeenCalledTimes(1);
  });
});
