import { AuthorityManager, InMemoryTokenStore } from '@ape/authority';
import {
  type AgentRuntime,
  ApeError,
  createInMemoryUsageStore,
  createRuntime,
  type EscalationHandler,
  type EscalationResult,
  type PolicyEvaluator,
  type UsageLimit,
  type UsageStore,
} from '@ape/core';
import { createRecordingAuditSink, FakeClock } from '@ape/core/testing';
import { compilePolicy } from '@ape/policy';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';

// Issue 14's budget attack in memory, with the real @ape/policy and @ape/authority: a budget of two
// reads and "no write after a read" must survive a denied escalation that ends the session.

const policy = compilePolicy({
  version: 1,
  name: 'calls-budget',
  allowed_actions: ['read_file', 'list_dir', 'write_file'],
  escalation_required: ['deploy'],
  tool_transitions: { read_file: ['read_file', 'list_dir', 'deploy'] },
  limits: [{ id: 'read-budget', actions: ['read_file'], max_calls: 2 }],
});

const intent = {
  allowed_actions: ['read_file', 'list_dir', 'write_file', 'deploy'],
  forbidden_actions: [],
  scope: 'calls-mode budget tests',
};

/** The real policy with its limits counted per lineage (and optionally in a window). */
function perLineage(windowMs?: number): PolicyEvaluator {
  const cache = new Map<string, readonly UsageLimit[]>();
  return {
    digest: policy.digest,
    evaluate: (request) => policy.evaluate(request),
    mayPermit: (tenant, action) => policy.mayPermit(tenant, action),
    limitsFor: (tenant, action) => {
      let limits = cache.get(action);
      if (limits === undefined) {
        limits = policy.limitsFor(tenant, action).map((limit) => ({
          ...limit,
          scope: 'lineage' as const,
          ...(windowMs === undefined ? {} : { windowMs }),
        }));
        cache.set(action, limits);
      }
      return limits;
    },
  };
}

const DENY_ALL: EscalationHandler = {
  requestApproval: async () => ({ approved: false, approver: 'deny-all', provenance: 'SYSTEM_TRUSTED' }),
};

interface Opened {
  readonly runtime: AgentRuntime;
  readonly audit: ReturnType<typeof createRecordingAuditSink>;
}

async function open(options: {
  readonly usage: UsageStore;
  readonly sessionId: string;
  readonly lineage?: string;
  readonly continuesSession?: string;
  readonly policy?: PolicyEvaluator;
  readonly escalation?: EscalationHandler;
  readonly clock?: FakeClock;
  readonly escalationTimeoutMs?: number;
}): Promise<Opened> {
  const clock = options.clock ?? new FakeClock();
  const audit = createRecordingAuditSink();
  const runtime = createRuntime({
    tenant: 'acme',
    policy: options.policy ?? policy,
    authority: new AuthorityManager({ tenant: 'acme', store: new InMemoryTokenStore(), clock }),
    audit,
    clock,
    usage: options.usage,
    sessionId: options.sessionId,
    escalation: options.escalation ?? DENY_ALL,
    ...(options.lineage === undefined ? {} : { lineage: options.lineage }),
    ...(options.continuesSession === undefined ? {} : { continuesSession: options.continuesSession }),
    ...(options.escalationTimeoutMs === undefined
      ? {}
      : { escalationTimeoutMs: options.escalationTimeoutMs }),
  });
  await runtime.setIntent(intent, { provenance: 'USER_TRUSTED' });
  return { runtime, audit };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (ApeError.isInstance(error)) return error.code;
    throw error;
  }
}

function deniedRules(audit: Opened['audit']): unknown[] {
  return audit.events
    .filter((event) => event.type === 'decision.made' && event.data['decision'] === 'DENY')
    .map((event) => event.data['rules']);
}

describe('the budget attack of issue 14, in memory', () => {
  const args = { path: '/workspace/notes.txt' };

  it('refuses the third read and the write after a read in the session that continues a terminated one', async () => {
    const usage = createInMemoryUsageStore();
    const read = vi.fn(() => 'notes');
    const write = vi.fn(() => 'written');
    const first = await open({ usage, sessionId: 's1', lineage: 'conn-1' });
    await first.runtime.call('read_file', read, { args, provenance: 'USER_TRUSTED' });
    expect(
      await codeOf(first.runtime.call('deploy', vi.fn(), { args: {}, provenance: 'USER_TRUSTED' })),
    ).toBe('ESCALATION_DENIED');
    expect(first.runtime.state).toBe('TERMINATED');

    const second = await open({ usage, sessionId: 's2', lineage: 'conn-1', continuesSession: 's1' });
    await second.runtime.call('read_file', read, { args, provenance: 'USER_TRUSTED' });
    expect(await codeOf(second.runtime.call('read_file', read, { args, provenance: 'USER_TRUSTED' }))).toBe(
      'POLICY_DENY',
    );
    expect(await codeOf(second.runtime.call('write_file', write, { args, provenance: 'USER_TRUSTED' }))).toBe(
      'POLICY_DENY',
    );
    expect(read).toHaveBeenCalledTimes(2);
    expect(write).not.toHaveBeenCalled();
    expect(deniedRules(second.audit)).toEqual([['read-budget'], ['tool_transitions.read_file']]);
  });

  it('refuses them in a fresh session of the same lineage when the limit is counted per lineage', async () => {
    const usage = createInMemoryUsageStore();
    const lineagePolicy = perLineage();
    const read = vi.fn(() => 'notes');
    const write = vi.fn(() => 'written');
    const first = await open({ usage, sessionId: 's1', lineage: 'conn-1', policy: lineagePolicy });
    await first.runtime.call('read_file', read, { args, provenance: 'USER_TRUSTED' });
    await first.runtime.call('read_file', read, { args, provenance: 'USER_TRUSTED' });
    expect(
      await codeOf(first.runtime.call('deploy', vi.fn(), { args: {}, provenance: 'USER_TRUSTED' })),
    ).toBe('ESCALATION_DENIED');

    const fresh = await open({ usage, sessionId: 's2', lineage: 'conn-1', policy: lineagePolicy });
    expect(await codeOf(fresh.runtime.call('read_file', read, { args, provenance: 'USER_TRUSTED' }))).toBe(
      'POLICY_DENY',
    );
    expect(await codeOf(fresh.runtime.call('write_file', write, { args, provenance: 'USER_TRUSTED' }))).toBe(
      'POLICY_DENY',
    );
    expect(read).toHaveBeenCalledTimes(2);
    expect(write).not.toHaveBeenCalled();
    expect(deniedRules(fresh.audit)).toEqual([['read-budget'], ['tool_transitions.read_file']]);

    const otherLineage = await open({ usage, sessionId: 's3', lineage: 'conn-2', policy: lineagePolicy });
    await otherLineage.runtime.call('write_file', write, { args, provenance: 'USER_TRUSTED' });
    expect(write).toHaveBeenCalledTimes(1);
  });
});

type Command =
  | { readonly kind: 'call'; readonly action: 'read_file' | 'list_dir' | 'write_file' }
  | { readonly kind: 'deploy'; readonly answer: 'approve' | 'deny' | 'timeout' }
  | { readonly kind: 'terminate' }
  | { readonly kind: 'new-session'; readonly continues: boolean }
  | { readonly kind: 'wait'; readonly ms: number };

const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('call' as const),
      action: fc.constantFrom(
        'read_file' as const,
        'read_file' as const,
        'list_dir' as const,
        'write_file' as const,
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('deploy' as const),
      answer: fc.constantFrom('approve' as const, 'deny' as const, 'timeout' as const),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'terminate' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('new-session' as const), continues: fc.boolean() }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 40_000 }) }),
  },
);

describe('no limit is exceeded and no forbidden transition runs, whatever happens in a lineage', () => {
  it('holds over random interleavings of calls, escalations, terminations and new sessions', async () => {
    const windowMs = 60_000;
    await fc.assert(
      fc.asyncProperty(fc.array(commandArbitrary, { minLength: 1, maxLength: 30 }), async (commands) => {
        const usage = createInMemoryUsageStore();
        const clock = new FakeClock();
        const lineagePolicy = perLineage(windowMs);
        const runs: { action: string; at: number }[] = [];
        let answer: 'approve' | 'deny' | 'timeout' = 'deny';
        const escalation: EscalationHandler = {
          requestApproval: (_request, signal) =>
            answer === 'timeout'
              ? new Promise<EscalationResult>((_, reject) =>
                  signal.addEventListener('abort', () => reject(new Error('aborted'))),
                )
              : Promise.resolve({
                  approved: answer === 'approve',
                  approver: 'property',
                  provenance: 'USER_TRUSTED',
                }),
        };
        let sessions = 0;
        let previousId: string | undefined;
        const start = async (continues: boolean): Promise<AgentRuntime> => {
          const sessionId = `s${sessions++}`;
          const opened = await open({
            usage,
            sessionId,
            lineage: 'conn',
            policy: lineagePolicy,
            escalation,
            clock,
            escalationTimeoutMs: 2,
            ...(continues && previousId !== undefined ? { continuesSession: previousId } : {}),
          });
          previousId = sessionId;
          return opened.runtime;
        };
        let runtime = await start(false);
        for (const command of commands) {
          if (command.kind === 'wait') clock.advance(command.ms);
          else if (command.kind === 'terminate') await runtime.terminate();
          else if (command.kind === 'new-session') runtime = await start(command.continues);
          else {
            const action = command.kind === 'deploy' ? 'deploy' : command.action;
            if (command.kind === 'deploy') answer = command.answer;
            await codeOf(
              runtime.call(action, () => runs.push({ action, at: clock.now() }), {
                args: {},
                provenance: 'USER_TRUSTED',
              }),
            );
          }
        }
        const reads = runs.filter((run) => run.action === 'read_file');
        for (const read of reads) {
          const inWindow = reads.filter((other) => other.at <= read.at && read.at - other.at < windowMs);
          expect(inWindow.length).toBeLessThanOrEqual(2);
        }
        for (const [index, run] of runs.entries()) {
          if (index > 0 && runs[index - 1]?.action === 'read_file') {
            expect(['read_file', 'list_dir', 'deploy']).toContain(run.action);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
