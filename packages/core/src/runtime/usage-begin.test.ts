import { describe, expect, it } from 'vitest';
import type { UsageLimit, UsageStore } from '../ports/usage-store.js';
import type { ActionRequest, Decision } from '../types.js';
import { dataOf, INTENT, rejection, setup } from './__fixtures__/runtime-setup.js';
import { createInMemoryUsageStore } from './in-memory-usage-store.js';

const READ = { path: '/workspace/a.txt' };
const LINEAGE_KEY = 'acme\u0000lineage\u0000conn-1\u0000previous';
const budget: UsageLimit = { id: 'budget', max: 2, scope: 'lineage' };
const COUNTER = { key: 'acme\u0000lineage\u0000conn-1\u0000budget', max: 2 };

/** The in-memory store with every method call written down by name. */
function countingStore(base: UsageStore = createInMemoryUsageStore()) {
  const calls: string[] = [];
  const counted =
    <Args extends unknown[], Result>(name: string, method: (...args: Args) => Result) =>
    (...args: Args): Result => {
      calls.push(name);
      return method(...args);
    };
  const store: UsageStore = {
    acquire: counted('acquire', base.acquire),
    release: counted('release', base.release),
    usage: counted('usage', base.usage),
    previousAction: counted('previousAction', base.previousAction),
    setPreviousAction: counted('setPreviousAction', base.setPreviousAction),
    begin: counted('begin', base.begin!),
    undo: counted('undo', base.undo!),
  };
  return { store, calls, base };
}

/** A lineage session whose policy decides by action (and may look at the previous action). */
async function lineageSession(
  store: UsageStore,
  decide: (request: ActionRequest) => Decision,
  extra: Parameters<typeof setup>[0] = {},
) {
  const limits = { read_file: [budget], write_file: [budget], send_email: [budget] };
  const context = setup({ usage: store, lineage: 'conn-1', policy: { decide, limits }, ...extra });
  await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
  const call = (action: string) =>
    context.runtime.call(action, context.tool, { args: READ, provenance: 'USER_TRUSTED' });
  return { ...context, call };
}

const noWriteAfterRead = (request: ActionRequest): Decision =>
  request.action === 'write_file' && request.session?.previousAction === 'read_file'
    ? 'DENY'
    : request.action === 'send_email'
      ? 'ESCALATE'
      : 'ALLOW';

describe('one usage-store call per gated call (begin)', () => {
  it('makes exactly one store call for an allowed call with a lineage limit and a transition rule', async () => {
    const { store, calls } = countingStore();
    const { call, tool } = await lineageSession(store, noWriteAfterRead);
    await call('read_file');
    expect(calls).toEqual(['begin']);
    expect(tool).toHaveBeenCalledTimes(1);
  });

  it('gives the policy the previous action begin read, and holds a transition rule across calls', async () => {
    const { store, calls } = countingStore();
    const { call, tool, policy } = await lineageSession(store, noWriteAfterRead);
    await call('read_file');
    const error = await rejection(call('write_file'));
    expect(error.code).toBe('POLICY_DENY');
    expect(policy.requests.map((request) => request.session?.previousAction)).toEqual([
      undefined,
      'read_file',
    ]);
    expect(calls).toEqual(['begin', 'begin', 'undo']);
    expect(tool).toHaveBeenCalledTimes(1);
  });

  it('a DENY counts nothing and leaves the previous action as it was, in two store calls', async () => {
    const { store, calls, base } = countingStore();
    const { call } = await lineageSession(store, noWriteAfterRead);
    await call('read_file');
    calls.length = 0;
    await rejection(call('write_file'));
    expect(calls).toEqual(['begin', 'undo']);
    expect(base.usage([COUNTER], Date.now())).toEqual([1]);
    expect(base.previousAction(LINEAGE_KEY)).toBe('read_file');
  });

  it('a call refused by its limit writes nothing and makes one store call', async () => {
    const { store, calls, base } = countingStore();
    const { call, tool } = await lineageSession(store, () => 'ALLOW');
    await call('read_file');
    await call('write_file');
    calls.length = 0;
    const error = await rejection(call('read_file'));
    expect(error.details['rules']).toEqual(['budget']);
    expect(calls).toEqual(['begin']);
    expect(base.previousAction(LINEAGE_KEY)).toBe('write_file');
    expect(tool).toHaveBeenCalledTimes(2);
  });

  it('an approved escalation holds its use while it waits and writes the previous action before its tool runs', async () => {
    const { store, calls, base } = countingStore();
    const { call, tool } = await lineageSession(store, noWriteAfterRead, {
      script: [{ approved: true, approver: 'alice', provenance: 'USER_TRUSTED' }],
    });
    await call('read_file');
    calls.length = 0;
    await call('send_email');
    expect(calls).toEqual(['begin', 'undo', 'setPreviousAction']);
    expect(base.usage([COUNTER], Date.now())).toEqual([2]);
    expect(base.previousAction(LINEAGE_KEY)).toBe('send_email');
    expect(tool).toHaveBeenCalledTimes(2);
  });

  it('a denied escalation gives its use back and never became the previous action', async () => {
    const { store, base } = countingStore();
    const { call, tool } = await lineageSession(store, noWriteAfterRead, {
      script: [{ approved: false, approver: 'alice', provenance: 'USER_TRUSTED' }],
    });
    await call('read_file');
    expect((await rejection(call('send_email'))).code).toBe('ESCALATION_DENIED');
    expect(base.usage([COUNTER], Date.now())).toEqual([1]);
    expect(base.previousAction(LINEAGE_KEY)).toBe('read_file');
    expect(tool).toHaveBeenCalledTimes(1);
  });

  it('in observe mode a DENY still runs its tool, counts nothing and becomes the previous action', async () => {
    const { store, calls, base } = countingStore();
    const { call, tool, audit } = await lineageSession(store, () => 'DENY', { mode: 'observe' });
    await call('read_file');
    expect(calls).toEqual(['begin', 'release']);
    expect(dataOf(audit.events, 'decision.made')[0]).toMatchObject({ decision: 'DENY', enforced: false });
    expect(base.usage([COUNTER], Date.now())).toEqual([0]);
    expect(base.previousAction(LINEAGE_KEY)).toBe('read_file');
    expect(tool).toHaveBeenCalledTimes(1);
  });

  it('undoes a call refused after its decision (an audit failure) once: no use, no previous action', async () => {
    const { store, calls, base } = countingStore();
    const { call, tool, audit } = await lineageSession(store, () => 'ALLOW');
    audit.failWhen((event) => event.type === 'token.consumed');
    await rejection(call('read_file'));
    expect(calls.filter((name) => name === 'undo')).toHaveLength(1);
    expect(base.usage([COUNTER], Date.now())).toEqual([0]);
    expect(base.previousAction(LINEAGE_KEY)).toBeUndefined();
    expect(tool).not.toHaveBeenCalled();
  });

  it('keeps the use counted when the undo fails (the safe side)', async () => {
    const { store, base } = countingStore();
    const failingUndo: UsageStore = { ...store, undo: () => Promise.reject(new Error('down')) };
    const { call } = await lineageSession(failingUndo, () => 'DENY');
    await rejection(call('read_file'));
    expect(base.usage([COUNTER], Date.now())).toEqual([1]);
  });

  it('falls back to three calls for a store without begin and undo, with the same decisions', async () => {
    const { store, calls, base } = countingStore();
    const { begin: _begin, undo: _undo, ...threeCalls } = store;
    const { call, tool } = await lineageSession(threeCalls, noWriteAfterRead);
    await call('read_file');
    expect(calls).toEqual(['previousAction', 'acquire', 'setPreviousAction']);
    calls.length = 0;
    await rejection(call('write_file'));
    expect(calls).toEqual(['previousAction']);
    expect(base.previousAction(LINEAGE_KEY)).toBe('read_file');
    expect(tool).toHaveBeenCalledTimes(1);
  });

  it('keeps a token from authorizeCall from becoming the previous action until it runs', async () => {
    const { store, calls, base } = countingStore();
    const { runtime, tool } = await lineageSession(store, () => 'ALLOW');
    const { token, index } = await runtime.authorizeCall('read_file', {
      args: READ,
      provenance: 'USER_TRUSTED',
    });
    expect(calls).toEqual(['begin']);
    expect(base.previousAction(LINEAGE_KEY)).toBeUndefined();
    await runtime.gate.execute(token, tool, { index, args: READ });
    expect(calls).toEqual(['begin', 'setPreviousAction']);
    expect(base.previousAction(LINEAGE_KEY)).toBe('read_file');
  });
});
