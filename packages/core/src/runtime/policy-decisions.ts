import type { DeepReadonly } from '../deep-freeze.js';
import type { Intent } from '../intent.js';
import type { PlanStep } from '../plan.js';
import type { PolicyEvaluator } from '../ports/policy-evaluator.js';
import type { UsageLimit } from '../ports/usage-store.js';
import type { ActionRequest, IntentScope, PolicyDecision, ProvenanceLabel } from '../types.js';
import { limitDenial } from './usage.js';
import { messageOf } from '../errors.js';

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
    return failure(digest, `the policy threw (${messageOf(error)})`);
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
 * @internal The one place the runtime checks intent membership (docs/runtime.md): an action inside
 * `forbidden_actions` or outside `allowed_actions` is a DENY decided by the intent before the policy
 * is asked (so the policy's own intent check, through `ActionRequest.intent`, never adds a second
 * rule id). `undefined` when the intent admits the action.
 */
export function outsideIntent(
  intent: DeepReadonly<Intent>,
  action: string,
  digest: string,
): PolicyDecision | undefined {
  if (intent.forbidden_actions.includes(action)) {
    return Object.freeze({
      decision: 'DENY',
      rules: Object.freeze(['intent.forbidden_actions']),
      reason: `"${action}" is forbidden by the session's intent.`,
      policy: digest,
    });
  }
  if (!intent.allowed_actions.includes(action)) {
    return Object.freeze({
      decision: 'DENY',
      rules: Object.freeze(['intent.allowed_actions']),
      reason: `"${action}" is not among the intent's allowed_actions.`,
      policy: digest,
    });
  }
  return undefined;
}

/**
 * @internal Applies `escalation_required` on top of the policy's answer for an action the intent
 * admits: an ALLOW becomes ESCALATE. The intent can only narrow.
 */
export function escalateByIntent(
  decision: PolicyDecision,
  intent: DeepReadonly<Intent>,
  action: string,
): PolicyDecision {
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

/** One usage limit as plan review simulates it: the limit and its store key. */
export interface KeyedLimit {
  readonly limit: UsageLimit;
  readonly key: string;
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
  /** The limits without a window that each action of the plan counts against, keyed. */
  readonly limits: ReadonlyMap<string, readonly KeyedLimit[]>;
  /** The current uses of each key in `limits` (from the usage store). */
  readonly used: ReadonlyMap<string, number>;
}

/**
 * @internal Evaluates every step in order, simulating the session: the previous action and the
 * plan's own uses of each limit on top of the store's current counts. A step with fixed args is
 * evaluated with them and the plan's provenance; a step without args is checked with `mayPermit`.
 */
export function reviewPlan(steps: DeepReadonly<PlanStep[]>, context: PlanReviewContext): PlanReview {
  const used = new Map(context.used);
  let previousAction = context.previousAction;
  const escalations: number[] = [];
  for (const [index, step] of steps.entries()) {
    const action = step.action_id;
    let decision: PolicyDecision | undefined = outsideIntent(context.intent, action, context.digest);
    if (decision === undefined && step.args === undefined) {
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
    } else if (decision === undefined) {
      decision = evaluateSafely(context.policy, context.digest, {
        tenant: context.tenant,
        action,
        args: step.args as Readonly<Record<string, unknown>>,
        provenance: context.provenance,
        session: { id: context.session, ...(previousAction === undefined ? {} : { previousAction }) },
        intent: context.scope,
      });
    }
    decision = escalateByIntent(decision, context.intent, action);
    const limits = context.limits.get(action) ?? [];
    // As the policy is only asked about steps with fixed args, so are the limits: an open step is
    // counted (its call will be) and checked at the gate with its real arguments.
    if (decision.decision !== 'DENY' && step.args !== undefined) {
      const full = limits.find(({ limit, key }) => !((used.get(key) ?? 0) < limit.max));
      if (full !== undefined) decision = limitDenial(full.limit, used.get(full.key) ?? 0, context.digest);
    }
    if (decision.decision === 'DENY') return { denied: { step: index, action, decision }, escalations };
    if (decision.decision === 'ESCALATE') escalations.push(index);
    for (const { key } of limits) used.set(key, (used.get(key) ?? 0) + 1);
    previousAction = action;
  }
  return { escalations };
}
