import type { DeepReadonly } from '../deep-freeze.js';
import type { Intent } from '../intent.js';
import type { PlanStep } from '../plan.js';
import type { PolicyEvaluator } from '../ports/policy-evaluator.js';
import type { ActionRequest, IntentScope, PolicyDecision, ProvenanceLabel } from '../types.js';

/** The `code` of a DENY produced because the policy threw or answered something that is not a decision. */
export const POLICY_FAILURE_CODE = 'POLICY_EVALUATION_FAILED';

const DECISIONS = new Set(['ALLOW', 'DENY', 'ESCALATE']);

/**
 * @internal Asks the policy, failing closed: a throw or a malformed answer becomes a DENY carrying
 * {@link POLICY_FAILURE_CODE}. Never throws.
 */
export function evaluateSafely(
  policy: PolicyEvaluator,
  digest: string,
  request: ActionRequest,
): PolicyDecision {
  let answer: unknown;
  try {
    answer = policy.evaluate(request);
  } catch (error) {
    return failure(digest, `the policy threw (${error instanceof Error ? error.message : String(error)})`);
  }
  const decision = answer as Partial<PolicyDecision> | null | undefined;
  if (
    typeof decision !== 'object' ||
    decision === null ||
    !DECISIONS.has(decision.decision as string) ||
    !Array.isArray(decision.rules) ||
    typeof decision.reason !== 'string'
  ) {
    return failure(digest, 'the policy returned something that is not a decision');
  }
  return decision as PolicyDecision;
}

function failure(digest: string, what: string): PolicyDecision {
  return Object.freeze({
    decision: 'DENY',
    rules: Object.freeze([]),
    reason: `Denied because ${what}; failing closed.`,
    policy: digest,
    code: POLICY_FAILURE_CODE,
  });
}

/** @internal `policy.mayPermit`, failing closed (a throw means no). */
export function mayPermitSafely(policy: PolicyEvaluator, tenant: string, action: string): boolean {
  try {
    return policy.mayPermit(tenant, action) === true;
  } catch {
    return false;
  }
}

/**
 * @internal Applies the intent on top of the policy's answer: it can only narrow. An action outside
 * `allowed_actions` or inside `forbidden_actions` is DENY; an action in `escalation_required` that
 * the policy allows becomes ESCALATE.
 */
export function narrowToIntent(
  decision: PolicyDecision,
  intent: DeepReadonly<Intent>,
  action: string,
): PolicyDecision {
  if (intent.forbidden_actions.includes(action)) {
    return Object.freeze({
      ...decision,
      decision: 'DENY',
      rules: Object.freeze([...decision.rules, 'intent.forbidden_actions']),
      reason: `"${action}" is forbidden by the session's intent.`,
    });
  }
  if (!intent.allowed_actions.includes(action)) {
    return Object.freeze({
      ...decision,
      decision: 'DENY',
      rules: Object.freeze([...decision.rules, 'intent.allowed_actions']),
      reason: `"${action}" is not among the intent's allowed_actions.`,
    });
  }
  if (decision.decision === 'ALLOW' && (intent.escalation_required ?? []).includes(action)) {
    return Object.freeze({
      ...decision,
      decision: 'ESCALATE',
      rules: Object.freeze([...decision.rules, 'intent.escalation_required']),
      reason: `"${action}" needs a human approval in this session (intent.escalation_required).`,
    });
  }
  return decision;
}

/** The outcome of checking a plan's steps against the policy at approval time. */
export interface PlanReview {
  /** The first step the policy denies, if any. */
  readonly denied?: { readonly step: number; readonly action: string; readonly decision: PolicyDecision };
  /** Indices of steps that will be escalated when executed (as far as approval can tell). */
  readonly escalations: readonly number[];
}

/** What {@link reviewPlan} needs to simulate the session. */
export interface PlanReviewContext {
  readonly policy: PolicyEvaluator;
  readonly digest: string;
  readonly tenant: string;
  readonly session: string;
  readonly intent: DeepReadonly<Intent>;
  readonly scope: IntentScope;
  readonly provenance: ProvenanceLabel;
  readonly previousAction: string | undefined;
  readonly calls: Readonly<Record<string, number>>;
}

/**
 * @internal Evaluates every step in order, simulating the session (previous action, call counts). A
 * step with fixed args is evaluated with them and the plan's provenance; a step without args is
 * checked with `mayPermit`.
 */
export function reviewPlan(steps: DeepReadonly<PlanStep[]>, context: PlanReviewContext): PlanReview {
  const calls: Record<string, number> = Object.assign(
    Object.create(null) as Record<string, number>,
    context.calls,
  );
  let previousAction = context.previousAction;
  const escalations: number[] = [];
  for (const [index, step] of steps.entries()) {
    const action = step.action_id;
    let decision: PolicyDecision;
    if (step.args === undefined) {
      decision = mayPermitSafely(context.policy, context.tenant, action)
        ? Object.freeze({
            decision: 'ALLOW',
            rules: [],
            reason: 'The policy may permit this action.',
            policy: context.digest,
          })
        : Object.freeze({
            decision: 'DENY',
            rules: [],
            reason: `The policy can never permit "${action}".`,
            policy: context.digest,
          });
    } else {
      decision = evaluateSafely(context.policy, context.digest, {
        tenant: context.tenant,
        action,
        args: step.args as Readonly<Record<string, unknown>>,
        provenance: context.provenance,
        session: {
          id: context.session,
          ...(previousAction === undefined ? {} : { previousAction }),
          calls: Object.freeze(Object.assign(Object.create(null) as Record<string, number>, calls)),
        },
        intent: context.scope,
      });
    }
    decision = narrowToIntent(decision, context.intent, action);
    if (decision.decision === 'DENY') return { denied: { step: index, action, decision }, escalations };
    if (decision.decision === 'ESCALATE') escalations.push(index);
    calls[action] = (calls[action] ?? 0) + 1;
    previousAction = action;
  }
  return { escalations };
}
