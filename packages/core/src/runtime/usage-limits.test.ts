import { describe, expect, it } from 'vitest';
import type { UsageLimit, UsageStore } from '../ports/usage-store.js';
import { FakeClock } from '../testing/fake-clock.js';
import { createFakeAuthority } from '../testing/fake-authority.js';
import { createStubPolicy } from '../testing/stub-policy.js';
import type { Decision } from '../types.js';
import { dataOf, INTENT, rejection, setup, threeCallStoreWith } from './__fixtures__/runtime-setup.js';
import { createInMemoryUsageStore } from './in-memory-usage-store.js';
import { createRuntime, type RuntimeConfig } from './runtime.js';

const READ = { path: '/workspace/a.txt' };
const reads = (extra: Partial<UsageLimit> = {}): UsageLimit => ({
  id: 'reads',
  max: 2,
  scope: 'session',
  ...extra,
});

async function callsSession(options: Parameters<typeof setup>[0]) {
  const context = setup(options);
  await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
  const read = () =>
    context.runtime.call('read_file', context.tool, { args: READ, provenance: 'USER_TRUSTED' });
  return { ...context, read };
}

describe('usage limits at the gate', () => {
  it('denies the call past a limit, naming it, with one decision record per call, and never runs its tool', async () => {
    const { read, tool, audit, runtime } = await callsSession({
      policy: { decisions: { read_file: 'ALLOW' }, limits: { read_file: [reads()] } },
    });
    await read();
    await read();
    const error = await rejection(read());
    expect(error.code).toBe('POLICY_DENY');
    expect(error.details['rules']).toEqual(['reads']);
    expect(error.message).toContain('limit reads allows 2 calls per session; 2 used');
    expect(tool).toHaveBeenCalledTimes(2);
    expect(dataOf(audit.events, 'decision.made').map((data) => data['decision'])).toEqual([
      'ALLOW',
      'ALLOW',
      'DENY',
    ]);
    expect(runtime.state).toBe('EXECUTING');
  });

  it('adds the limit reason to the denial, and enforces limits in plan mode too', async () => {
    const context = setup({
      policy: {
        decisions: { read_file: 'ALLOW' },
        limits: { read_file: [reads({ max: 1, reason: 'One read.' })] },
      },
    });
    await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    await context.runtime.submitPlan([{ action_id: 'read_file' }, { action_id: 'read_file' }], {
      provenance: 'USER_TRUSTED',
    });
    await context.runtime.executeStep(0, context.tool, { args: READ });
    const error = await rejection(context.runtime.executeStep(1, context.tool, { args: READ }));
    expect(error.details['reason']).toBe('Denied: limit reads allows 1 call per session; 1 used (One read).');
    expect(context.tool).toHaveBeenCalledTimes(1);
  });

  it('slides a windowed limit with the runtime clock', async () => {
    const clock = new FakeClock();
    const { read, tool } = await callsSession({
      clock,
      policy: { decisions: { read_file: 'ALLOW' }, limits: { read_file: [reads({ windowMs: 60_000 })] } },
    });
    await read();
    clock.advance(30_000);
    await read();
    const error = await rejection(read());
    expect(error.message).toContain('limit reads allows 2 calls per session per 1m; 2 used');
    clock.advance(30_000);
    await read();
    expect(tool).toHaveBeenCalledTimes(3);
  });

  it('counts a call whose tool throws', async () => {
    const { runtime } = await callsSession({
      policy: { decisions: { read_file: 'ALLOW' }, limits: { read_file: [reads({ max: 1 })] } },
    });
    const failing = () => {
      throw new Error('disk on fire');
    };
    await expect(runtime.call('read_file', failing, { args: READ })).rejects.toThrow('disk on fire');
    expect((await rejection(runtime.call('read_file', failing, { args: READ }))).code).toBe('POLICY_DENY');
  });

  it('reserves before asking a human and gives the use back when the escalation is denied', async () => {
    const usage = createInMemoryUsageStore();
    const counter = { key: 'acme\u0000session\u0000session-1\u0000mails', max: 5 };
    const seen: number[] = [];
    const context = setup({
      usage,
      policy: {
        decisions: { send_email: 'ESCALATE' },
        limits: { send_email: [{ id: 'mails', max: 5, scope: 'session' }] },
      },
      escalation: {
        requestApproval: async () => {
          seen.push(...(usage.usage([counter], Date.UTC(2026, 0, 1)) as number[]));
          return { approved: false, approver: 'bob', provenance: 'USER_TRUSTED' };
        },
      },
    });
    await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    expect((await rejection(context.runtime.call('send_email', context.tool, { args: {} }))).code).toBe(
      'ESCALATION_DENIED',
    );
    expect(seen).toEqual([1]);
    expect(usage.usage([counter], Date.UTC(2026, 0, 1))).toEqual([0]);
  });

  it('gives the use back when the authority refuses to issue after the decision', async () => {
    const usage = createInMemoryUsageStore();
    const authority = createFakeAuthority({ tenant: 'acme' });
    const broken = Object.assign(Object.create(authority) as typeof authority, {
      issue: () => {
        throw new Error('HSM offline');
      },
    });
    const { read, tool } = await callsSession({
      usage,
      authority: broken,
      policy: { decisions: { read_file: 'ALLOW' }, limits: { read_file: [reads({ max: 1 })] } },
    });
    expect((await rejection(read())).details['code']).toBe('AUTHORITY_FAILURE');
    expect(usage.usage([{ key: 'acme\u0000session\u0000session-1\u0000reads', max: 1 }], 0)).toEqual([0]);
    expect(tool).not.toHaveBeenCalled();
  });

  it('fails closed on a lineage-scoped limit when the runtime has no lineage', async () => {
    const { read, tool } = await callsSession({
      policy: { decisions: { read_file: 'ALLOW' }, limits: { read_file: [reads({ scope: 'lineage' })] } },
    });
    const error = await rejection(read());
    expect(error.details).toMatchObject({ code: 'USAGE_SCOPE_MISSING', rules: ['reads'] });
    expect(tool).not.toHaveBeenCalled();
  });

  it('fails closed when limitsFor throws', async () => {
    const policy = Object.assign(createStubPolicy({ decisions: { read_file: 'ALLOW' } }), {
      limitsFor: () => {
        throw new Error('corrupt');
      },
    });
    const runtime = createRuntime({
      tenant: 'acme',
      policy,
      authority: createFakeAuthority({ tenant: 'acme' }),
    });
    await runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    expect((await rejection(runtime.call('read_file', () => 1, { args: READ }))).details['code']).toBe(
      'POLICY_EVALUATION_FAILED',
    );
  });
});

describe('a failing usage store is a DENY', () => {
  const failingBegin = (begin: NonNullable<UsageStore['begin']>): UsageStore => ({
    ...createInMemoryUsageStore(),
    begin,
  });
  const limited = { decisions: { read_file: 'ALLOW' as Decision }, limits: { read_file: [reads()] } };

  for (const [name, store] of [
    [
      'acquire throws',
      threeCallStoreWith({
        acquire: () => {
          throw new Error('down');
        },
      }),
    ],
    ['acquire rejects', threeCallStoreWith({ acquire: () => Promise.reject(new Error('down')) })],
    ['acquire never answers', threeCallStoreWith({ acquire: () => new Promise(() => undefined) })],
    ['acquire answers nonsense', threeCallStoreWith({ acquire: () => 'yes' as never })],
    [
      'previousAction rejects',
      threeCallStoreWith({ previousAction: () => Promise.reject(new Error('down')) }),
    ],
    [
      'previousAction never answers',
      threeCallStoreWith({ previousAction: () => new Promise(() => undefined) }),
    ],
    ['previousAction answers a number', threeCallStoreWith({ previousAction: () => 7 as never })],
    [
      'begin throws',
      failingBegin(() => {
        throw new Error('down');
      }),
    ],
    ['begin rejects', failingBegin(() => Promise.reject(new Error('down')))],
    ['begin never answers', failingBegin(() => new Promise(() => undefined))],
    ['begin answers nonsense', failingBegin(() => 'yes' as never)],
    [
      'begin answers a number as the previous action',
      failingBegin(() => ({ previous: 7, result: { ok: false } }) as never),
    ],
    [
      'begin answers an acquisition without a reservation',
      failingBegin(() => ({ previous: undefined, result: { ok: true } }) as never),
    ],
    [
      'begin admits the call without writing its action',
      failingBegin(() => ({
        previous: undefined,
        result: { ok: true, reservation: { id: 'r', keys: [], at: 0 } },
      })),
    ],
    [
      'begin answers a write under another key',
      failingBegin(() => ({
        previous: undefined,
        result: { ok: true, reservation: { id: 'r', keys: [], at: 0 } },
        written: { key: 'globex\u0000lineage\u0000l\u0000previous', replaced: undefined, version: '1' },
      })),
    ],
  ] as const) {
    it(`denies with USAGE_STORE_FAILURE when ${name}, and the tool does not run`, async () => {
      const { read, tool, audit } = await callsSession({ usage: store, usageTimeoutMs: 10, policy: limited });
      const error = await rejection(read());
      expect(error.details['code']).toBe('USAGE_STORE_FAILURE');
      expect(dataOf(audit.events, 'decision.made')[0]).toMatchObject({
        decision: 'DENY',
        code: 'USAGE_STORE_FAILURE',
      });
      expect(tool).not.toHaveBeenCalled();
    });
  }

  it('denies when the previous action cannot be written, and the tool does not run', async () => {
    const store = threeCallStoreWith({
      setPreviousAction: () => Promise.reject(new Error('read-only replica')),
    });
    const { read, tool } = await callsSession({ usage: store, policy: limited });
    const error = await rejection(read());
    expect(error).toMatchObject({ code: 'POLICY_DENY', details: { code: 'USAGE_STORE_FAILURE' } });
    expect(tool).not.toHaveBeenCalled();
  });

  it('rejects a plan when the store cannot be read at review', async () => {
    const store = threeCallStoreWith({ usage: () => Promise.reject(new Error('down')) });
    const context = setup({ usage: store, policy: limited });
    await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    const error = await rejection(
      context.runtime.submitPlan([{ action_id: 'read_file', args: READ }], { provenance: 'USER_TRUSTED' }),
    );
    expect(error.code).toBe('PLAN_INVALID');
  });
});

describe('scopes: lineage, continuesSession, tenant', () => {
  const limited = (limit: UsageLimit) =>
    createStubPolicy({ decisions: { read_file: 'ALLOW' }, limits: { read_file: [limit] } });

  async function open(config: Partial<RuntimeConfig> & Pick<RuntimeConfig, 'policy'>) {
    const runtime = createRuntime({
      tenant: 'acme',
      authority: createFakeAuthority({ tenant: 'acme' }),
      ...config,
    });
    await runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    return (ran: string[]) => runtime.call('read_file', () => ran.push(runtime.sessionId), { args: READ });
  }

  it('counts a lineage-scoped limit across the sessions of one lineage, not another lineage', async () => {
    const usage = createInMemoryUsageStore();
    const policy = limited(reads({ scope: 'lineage' }));
    const ran: string[] = [];
    const first = await open({ policy, usage, lineage: 'conn-1', sessionId: 's1' });
    const second = await open({ policy, usage, lineage: 'conn-1', sessionId: 's2' });
    const other = await open({ policy, usage, lineage: 'conn-2', sessionId: 's3' });
    await first(ran);
    await second(ran);
    expect((await rejection(second(ran))).details['rules']).toEqual(['reads']);
    await other(ran);
    expect(ran).toEqual(['s1', 's2', 's3']);
  });

  it('continues the session-scoped counts of the session named by continuesSession', async () => {
    const usage = createInMemoryUsageStore();
    const policy = limited(reads());
    const ran: string[] = [];
    const first = await open({ policy, usage, sessionId: 's1' });
    await first(ran);
    await first(ran);
    const successor = await open({ policy, usage, sessionId: 's2', continuesSession: 's1' });
    expect((await rejection(successor(ran))).code).toBe('POLICY_DENY');
    const fresh = await open({ policy, usage, sessionId: 's3' });
    await fresh(ran);
    expect(ran).toEqual(['s1', 's1', 's3']);
  });

  it('counts a tenant-scoped limit across every session of the tenant only', async () => {
    const usage = createInMemoryUsageStore();
    const ran: string[] = [];
    const policy = limited(reads({ scope: 'tenant', max: 1 }));
    await (await open({ policy, usage, sessionId: 'a' }))(ran);
    expect((await rejection((await open({ policy, usage, sessionId: 'b' }))(ran))).code).toBe('POLICY_DENY');
    const globex = createRuntime({
      tenant: 'globex',
      policy,
      usage,
      authority: createFakeAuthority({ tenant: 'globex' }),
      sessionId: 'g',
    });
    await globex.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    await globex.call('read_file', () => ran.push('g'), { args: READ });
    expect(ran).toEqual(['a', 'g']);
  });

  it('gives the policy the lineage previous action, so a transition rule survives a new session', async () => {
    const usage = createInMemoryUsageStore();
    const noWriteAfterRead = createStubPolicy({
      decide: (request) =>
        request.action === 'write_file' && request.session?.previousAction === 'read_file' ? 'DENY' : 'ALLOW',
    });
    const first = createRuntime({
      tenant: 'acme',
      policy: noWriteAfterRead,
      usage,
      lineage: 'l',
      authority: createFakeAuthority({ tenant: 'acme' }),
    });
    await first.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    await first.call('read_file', () => 1, { args: READ });
    await first.terminate();
    const second = createRuntime({
      tenant: 'acme',
      policy: noWriteAfterRead,
      usage,
      lineage: 'l',
      authority: createFakeAuthority({ tenant: 'acme' }),
    });
    await second.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    let wrote = false;
    const error = await rejection(second.call('write_file', () => (wrote = true), { args: READ }));
    expect(error.code).toBe('POLICY_DENY');
    expect(wrote).toBe(false);
  });

  it('rejects a plan whose fixed steps would pass a limit, counting the uses already in the store', async () => {
    const usage = createInMemoryUsageStore();
    const policy = limited(reads());
    const ran: string[] = [];
    await (await open({ policy, usage, sessionId: 's1' }))(ran);
    const planner = createRuntime({
      tenant: 'acme',
      policy,
      usage,
      continuesSession: 's1',
      authority: createFakeAuthority({ tenant: 'acme' }),
    });
    await planner.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    const step = { action_id: 'read_file', args: READ };
    const error = await rejection(planner.submitPlan([step, step], { provenance: 'USER_TRUSTED' }));
    expect(error.details).toMatchObject({ step: 1, rules: ['reads'] });
    await planner.submitPlan([step], { provenance: 'USER_TRUSTED' });
  });
});

describe('usage configuration', () => {
  const base = () => ({
    tenant: 'acme',
    policy: createStubPolicy(),
    authority: createFakeAuthority({ tenant: 'acme' }),
  });

  for (const [field, value] of [
    ['usage', { acquire: () => undefined }],
    ['usage', { ...createInMemoryUsageStore(), undo: undefined }],
    ['usageTimeoutMs', 0],
    ['usageTimeoutMs', Number.POSITIVE_INFINITY],
    ['lineage', ''],
    ['continuesSession', 'a\u0000b'],
  ] as const) {
    it(`refuses a malformed ${field} (${String(value)})`, () => {
      const usage = field === 'usage' ? {} : { usage: createInMemoryUsageStore() };
      expect(() =>
        createRuntime({ ...base(), ...usage, [field]: value } as unknown as RuntimeConfig),
      ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', details: { field } }));
    });
  }

  for (const field of ['lineage', 'continuesSession'] as const) {
    it(`refuses ${field} without a shared usage store, saying why`, () => {
      expect(() => createRuntime({ ...base(), [field]: 'x' })).toThrow(
        expect.objectContaining({
          code: 'CONFIG_INVALID',
          details: { field },
          message: expect.stringContaining('cannot share'),
        }),
      );
    });
  }

  it('records the lineage and the continued session in session.created', async () => {
    const context = setup({ usage: createInMemoryUsageStore(), lineage: 'conn-9', continuesSession: 'old' });
    await context.runtime.terminate();
    expect(dataOf(context.audit.events, 'session.created')[0]).toMatchObject({
      lineage: 'conn-9',
      continuesSession: 'old',
    });
  });
});
