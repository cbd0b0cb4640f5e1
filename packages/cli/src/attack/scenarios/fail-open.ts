import { AuthorityManager, InMemoryTokenStore } from '@ape/authority';
import {
  type AuditSink,
  type Clock,
  PlanError,
  type PolicyDecision,
  type PolicyEvaluator,
  type TokenStore,
} from '@ape/core';
import type { MemoryAuditSink } from '@ape/audit';
import type { AttackContext, AttackScenario, SessionOptions } from '../types.js';
import { intentOf, openPlan } from './support.js';

const NOTES = { path: '/workspace/notes.txt' } as const;

/** A single read under `options`; the read running means a failure opened the gate. */
async function readUnder(context: AttackContext, options: SessionOptions): Promise<undefined> {
  const { runtime } = await context.start(intentOf(['read_file']), openPlan(['read_file']), options);
  await runtime.executeStep(0, context.harmful('read_file').tool, {
    args: NOTES,
    provenance: 'USER_TRUSTED',
  });
  return undefined;
}

/** The real policy, with `evaluate` replaced. */
function withEvaluate(policy: PolicyEvaluator, evaluate: () => unknown): PolicyEvaluator {
  return {
    digest: policy.digest,
    mayPermit: (tenant, action) => policy.mayPermit(tenant, action),
    evaluate: evaluate as () => PolicyDecision,
  };
}

/** The in-memory sink, failing on every event of `type`. */
function failingOn(type: string): (sink: MemoryAuditSink) => AuditSink {
  return (sink) => ({
    append: (event) => {
      if (event.type === type) throw new Error(`disk full while writing ${type}`);
      return sink.append(event);
    },
    flush: () => sink.flush(),
    close: () => sink.close(),
  });
}

function probe(id: string, title: string, run: AttackScenario['run']): AttackScenario {
  return {
    id: `fail-open.${id}`,
    family: 'fail-open',
    layer: 'runtime',
    target: 'workspace_files',
    title,
    run,
  };
}

/**
 * @internal Fail-open probes: a component on the decision path throws or answers nonsense; the
 * call must be denied, never allowed by accident.
 */
export const FAIL_OPEN_SCENARIOS: readonly AttackScenario[] = [
  probe('policy-throws', 'policy.evaluate throws', (context) =>
    readUnder(context, {
      policy: withEvaluate(context.policy(), () => {
        throw new Error('rule engine crashed');
      }),
    }),
  ),
  probe('policy-answers-nonsense', "policy.evaluate answers { decision: 'allow' } (lower case)", (context) =>
    readUnder(context, {
      policy: withEvaluate(context.policy(), () => ({
        decision: 'allow',
        rules: [],
        reason: 'ok',
        policy: 'x',
      })),
    }),
  ),
  probe('policy-may-permit-throws', 'policy.mayPermit throws while the plan is reviewed', async (context) => {
    const real = context.policy();
    try {
      return await readUnder(context, {
        policy: {
          digest: real.digest,
          evaluate: (request) => real.evaluate(request),
          mayPermit: () => {
            throw new Error('index corrupted');
          },
        },
      });
    } catch (error) {
      if (!PlanError.isInstance(error)) throw error;
      return context.blocked('fail-closed:plan-review', error.message);
    }
  }),
  probe('audit-fails-on-decision', 'the audit sink fails to record the decision', (context) =>
    readUnder(context, { wrapAudit: failingOn('decision.made') }),
  ),
  probe('audit-fails-on-token', 'the audit sink fails to record the token issue', (context) =>
    readUnder(context, { wrapAudit: failingOn('token.issued') }),
  ),
  probe('escalation-handler-throws', 'the escalation handler throws', async (context) => {
    const { runtime } = await context.start(intentOf(['send_email']), openPlan(['send_email']), {
      target: 'human_in_loop',
      escalation: {
        requestApproval: () => {
          throw new Error('approval service down');
        },
      },
    });
    await runtime.executeStep(0, context.harmful('send_email').tool, {
      args: { to: 'me@example.com' },
      provenance: 'USER_TRUSTED',
    });
    return undefined;
  }),
  probe(
    'escalation-never-answers',
    'the escalation handler never settles (runtime timeout)',
    async (context) => {
      const { runtime } = await context.start(intentOf(['send_email']), openPlan(['send_email']), {
        target: 'human_in_loop',
        escalation: { requestApproval: () => new Promise(() => undefined) },
        escalationTimeoutMs: 20,
      });
      await runtime.executeStep(0, context.harmful('send_email').tool, {
        args: { to: 'me@example.com' },
        provenance: 'USER_TRUSTED',
      });
      return undefined;
    },
  ),
  probe('clock-throws', 'the clock throws once the plan is approved', async (context) => {
    let broken = false;
    const clock: Clock & { advance(ms: number): void } = {
      now: () => {
        if (broken) throw new Error('clock source unavailable');
        return 1_767_225_600_000;
      },
      advance: () => undefined,
    };
    const { runtime } = await context.start(intentOf(['read_file']), openPlan(['read_file']), {
      clock,
      authority: new AuthorityManager({ tenant: 'acme', clock: { now: () => 1_767_225_600_000 } }),
    });
    broken = true;
    await runtime.executeStep(0, context.harmful('read_file').tool, {
      args: NOTES,
      provenance: 'USER_TRUSTED',
    });
    return undefined;
  }),
  probe('clock-returns-nan', 'the clock answers NaN once the plan is approved', async (context) => {
    let broken = false;
    const clock: Clock & { advance(ms: number): void } = {
      now: () => (broken ? Number.NaN : 1_767_225_600_000),
      advance: () => undefined,
    };
    const { runtime } = await context.start(intentOf(['read_file']), openPlan(['read_file']), {
      clock,
      authority: new AuthorityManager({ tenant: 'acme', clock: { now: () => 1_767_225_600_000 } }),
    });
    broken = true;
    await runtime.executeStep(0, context.harmful('read_file').tool, {
      args: NOTES,
      provenance: 'USER_TRUSTED',
    });
    return undefined;
  }),
  probe('authority-throws', 'the authority throws while issuing the token', (context) => {
    const clock = context.clock();
    const real = context.authority('acme', clock);
    return readUnder(context, {
      clock,
      authority: {
        tenant: 'acme',
        issue: () => {
          throw new Error('token service down');
        },
        consume: (token, binding) => real.consume(token, binding),
        revoke: (token, reason) => real.revoke(token, reason),
        revokeSession: (tenant, session, reason) => real.revokeSession(tenant, session, reason),
        revokeTenant: (tenant, reason) => real.revokeTenant(tenant, reason),
      },
    });
  }),
  probe('token-store-throws', "the authority's token store fails when the token is taken", (context) => {
    const clock = context.clock();
    const store = new InMemoryTokenStore();
    const broken: TokenStore = {
      put: (record) => store.put(record),
      take: () => {
        throw new Error('store connection reset');
      },
      removeWhere: (filter) => store.removeWhere(filter),
      purgeExpired: (now) => store.purgeExpired(now),
      size: () => store.size(),
    };
    return readUnder(context, {
      clock,
      authority: new AuthorityManager({ tenant: 'acme', clock, store: broken }),
    });
  }),
];
