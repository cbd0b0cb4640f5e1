import { AuthorityManager, InMemoryTokenStore } from '@ape/authority';
import { type Clock, PlanError, type TokenStore } from '@ape/core';
import type { AttackContext } from '../types.js';
import {
  byUser,
  failingOn,
  family,
  harmful,
  intentOf,
  NOTES,
  openPlan,
  READ_NOTES,
  type ScenarioRow,
  withEvaluate,
} from './support.js';

/** An e-mail under human_in_loop, which escalates it. */
const SEND_EMAIL = [harmful('send_email', { to: 'me@example.com' }, 'USER_TRUSTED')];

const FIXED_TIME = 1_767_225_600_000;

/** A read whose session clock answers `broken()` once the plan is approved. */
async function readWhenClockBreaks(context: AttackContext, broken: () => number): Promise<undefined> {
  let isBroken = false;
  const clock: Clock & { advance(ms: number): void } = {
    now: () => (isBroken ? broken() : FIXED_TIME),
    advance: () => undefined,
  };
  const { runtime } = await context.start(intentOf(['read_file']), openPlan(['read_file']), {
    clock,
    authority: new AuthorityManager({ tenant: 'acme', clock: { now: () => FIXED_TIME } }),
  });
  isBroken = true;
  await runtime.executeStep(0, context.harmful('read_file').tool, byUser(NOTES));
  return undefined;
}

/** @internal policy.evaluate throws (a row of plan mode and of calls mode). */
export const POLICY_THROWS: ScenarioRow = {
  variant: 'policy-throws',
  title: 'policy.evaluate throws',
  session: (context) => ({
    policy: withEvaluate(context.policy(), () => {
      throw new Error('rule engine crashed');
    }),
  }),
  steps: READ_NOTES,
};

/**
 * @internal Fail-open probes: a component on the decision path throws or answers nonsense; the
 * call must be denied, never allowed by accident.
 */
export const FAIL_OPEN_SCENARIOS = family('fail-open', { layer: 'runtime', target: 'workspace_files' }, [
  POLICY_THROWS,
  {
    variant: 'policy-answers-nonsense',
    title: "policy.evaluate answers { decision: 'allow' } (lower case)",
    session: (context) => ({
      policy: withEvaluate(context.policy(), () => ({
        decision: 'allow',
        rules: [],
        reason: 'ok',
        policy: 'x',
      })),
    }),
    steps: READ_NOTES,
  },
  {
    variant: 'policy-may-permit-throws',
    title: 'policy.mayPermit throws while the plan is reviewed',
    async run(context) {
      const real = context.policy();
      const { runtime } = context.session({
        policy: {
          digest: real.digest,
          evaluate: (request) => real.evaluate(request),
          mayPermit: () => {
            throw new Error('index corrupted');
          },
        },
      });
      try {
        await runtime.setIntent(intentOf(['read_file']), { provenance: 'USER_TRUSTED' });
        await runtime.submitPlan(openPlan(['read_file']), { provenance: 'USER_TRUSTED' });
        await runtime.executeStep(0, context.harmful('read_file').tool, byUser(NOTES));
        return undefined;
      } catch (error) {
        if (!PlanError.isInstance(error)) throw error;
        return context.blocked('fail-closed:plan-review', error.message);
      }
    },
  },
  {
    variant: 'audit-fails-on-decision',
    title: 'the audit sink fails to record the decision',
    session: () => ({ wrapAudit: failingOn('decision.made') }),
    steps: READ_NOTES,
  },
  {
    variant: 'audit-fails-on-token',
    title: 'the audit sink fails to record the token issue',
    session: () => ({ wrapAudit: failingOn('token.issued') }),
    steps: READ_NOTES,
  },
  {
    variant: 'escalation-handler-throws',
    title: 'the escalation handler throws',
    session: () => ({
      target: 'human_in_loop',
      escalation: {
        requestApproval: () => {
          throw new Error('approval service down');
        },
      },
    }),
    steps: SEND_EMAIL,
  },
  {
    variant: 'escalation-never-answers',
    title: 'the escalation handler never settles (runtime timeout)',
    session: () => ({
      target: 'human_in_loop',
      escalation: { requestApproval: () => new Promise(() => undefined) },
      escalationTimeoutMs: 20,
    }),
    steps: SEND_EMAIL,
  },
  {
    variant: 'clock-throws',
    title: 'the clock throws once the plan is approved',
    run: (context) =>
      readWhenClockBreaks(context, () => {
        throw new Error('clock source unavailable');
      }),
  },
  {
    variant: 'clock-returns-nan',
    title: 'the clock answers NaN once the plan is approved',
    run: (context) => readWhenClockBreaks(context, () => Number.NaN),
  },
  {
    variant: 'authority-throws',
    title: 'the authority throws while issuing the token',
    session: (context) => {
      const clock = context.clock();
      const real = context.authority('acme', clock);
      return {
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
      };
    },
    steps: READ_NOTES,
  },
  {
    variant: 'token-store-throws',
    title: "the authority's token store fails when the token is taken",
    session: (context) => {
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
      return { clock, authority: new AuthorityManager({ tenant: 'acme', clock, store: broken }) };
    },
    steps: READ_NOTES,
  },
]);
