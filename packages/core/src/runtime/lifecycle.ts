import { canonicalJson } from '../canonical-json.js';
import { AuditError, InternalError, messageOf, PlanError, RuntimeStateError } from '../errors.js';
import { createIntent, type ValidatedIntent } from '../intent.js';
import { isAtLeast } from '../labels.js';
import { createPlan, type ValidatedPlan } from '../plan.js';
import type { PolicyEvaluator } from '../ports/policy-evaluator.js';
import type { ProvenanceLabel } from '../types.js';
import { CallChain } from './call-chain.js';
import { configError, isPolicyEvaluator } from './config.js';
import { type KeyedLimit, type PlanReview, reviewPlan } from './policy-decisions.js';
import { fixedArgsOf } from './prepared-call.js';
import { readDigest, type Session, TRUSTED_ENOUGH } from './session.js';
import { bounded, limitsOf, usageKey } from './usage.js';

/** @internal The declared trust of a document handed to the runtime. */
export interface DocumentOptions {
  readonly provenance: ProvenanceLabel;
}

function adoptIntent(session: Session, validated: ValidatedIntent): void {
  session.intent = validated;
  session.scope = Object.freeze({
    allowed_actions: validated.value.allowed_actions,
    forbidden_actions: validated.value.forbidden_actions,
  });
}

function intentData(validated: ValidatedIntent, previous: string | undefined): Record<string, unknown> {
  return {
    version: validated.version,
    scope: validated.value.scope,
    allowed_actions: validated.value.allowed_actions,
    forbidden_actions: validated.value.forbidden_actions,
    escalation_required: validated.value.escalation_required ?? [],
    ...(previous === undefined ? {} : { update: true, previousVersion: previous }),
  };
}

/** `setIntent`: once per session, from trusted input. */
export async function setIntent(session: Session, intent: unknown, options: DocumentOptions): Promise<void> {
  session.requireTrusted(options, 'set the intent');
  session.requireTransition('SET_INTENT', 'setIntent');
  const validated = createIntent(intent);
  adoptIntent(session, validated);
  await Promise.all([
    session.record('intent.set', intentData(validated, undefined)),
    session.move('SET_INTENT'),
  ]);
}

/**
 * `updateIntent`: drops the plan (plan mode) or restarts the chain at the new intent's head₀ (calls
 * mode; the session stays in calls mode and its usage stays counted), revokes the session's tokens.
 */
export async function updateIntent(
  session: Session,
  intent: unknown,
  options: DocumentOptions,
): Promise<void> {
  session.requireTrusted(options, 'update the intent');
  session.requireIdle('updateIntent');
  session.requireTransition('UPDATE_INTENT', 'updateIntent');
  const validated = createIntent(intent);
  const previous = session.intent?.version;
  adoptIntent(session, validated);
  session.dropPlan();
  if (session.sessionMode === 'calls') session.chain = new CallChain(validated.version);
  await Promise.all([
    session.record('intent.set', intentData(validated, previous)),
    session.move('UPDATE_INTENT'),
  ]);
  await session.revokeSessionTokens('intent_updated');
}

/** Reads what plan review needs from the usage store: the previous action and the limits' counts. */
async function usageForReview(
  session: Session,
  validated: ValidatedPlan,
): Promise<{ previous: string | undefined; limits: Map<string, KeyedLimit[]>; used: Map<string, number> }> {
  const { config } = session;
  const limits = new Map<string, KeyedLimit[]>();
  const counters = new Map<string, { key: string; max: number }>();
  for (const step of validated.steps) {
    if (limits.has(step.action_id)) continue;
    const keyed: KeyedLimit[] = [];
    for (const limit of limitsOf(session.policy, config.tenant, step.action_id)) {
      // Windowed limits and scopes this runtime cannot key are left to the gate, call by call.
      const key = limit.windowMs === undefined ? usageKey(session.scopes, limit) : undefined;
      if (key === undefined) continue;
      keyed.push({ limit, key });
      counters.set(key, { key, max: limit.max });
    }
    limits.set(step.action_id, keyed);
  }
  const list = [...counters.values()];
  const [previous, counts] = await Promise.all([
    bounded(() => config.usage.previousAction(session.previousKey), config.usageTimeoutMs, 'previousAction'),
    list.length === 0
      ? []
      : bounded(() => config.usage.usage(list, config.clock.now()), config.usageTimeoutMs, 'usage'),
  ]);
  const used = new Map<string, number>();
  list.forEach((counter, index) => {
    const count = counts[index];
    used.set(
      counter.key,
      typeof count === 'number' && Number.isFinite(count) ? count : Number.POSITIVE_INFINITY,
    );
  });
  return { previous: typeof previous === 'string' ? previous : undefined, limits, used };
}

async function review(
  session: Session,
  validated: ValidatedPlan,
  provenance: ProvenanceLabel,
): Promise<PlanReview> {
  if (session.config.mode === 'disabled') return { escalations: [] };
  let usage: Awaited<ReturnType<typeof usageForReview>>;
  try {
    usage = await usageForReview(session, validated);
  } catch (error) {
    return {
      escalations: [],
      denied: {
        step: 0,
        action: validated.steps[0]?.action_id ?? '',
        decision: Object.freeze({
          decision: 'DENY',
          rules: Object.freeze([]),
          reason: `the usage store or the policy's limits failed (${messageOf(error)}); failing closed.`,
          policy: session.policyDigest,
          code: 'USAGE_STORE_FAILURE',
        }),
      },
    };
  }
  return reviewPlan(validated.steps, {
    policy: session.policy,
    digest: session.policyDigest,
    tenant: session.config.tenant,
    session: session.config.sessionId,
    intent: session.intent!.value,
    scope: session.scope!,
    provenance,
    previousAction: usage.previous,
    limits: usage.limits,
    used: usage.used,
  });
}

/** `submitPlan`: validates and reviews a plan, then approves it (plan mode). */
export async function submitPlan(session: Session, plan: unknown, options: DocumentOptions): Promise<void> {
  if (!isAtLeast(options?.provenance, TRUSTED_ENOUGH)) {
    await session.record('plan.rejected', { reason: 'provenance', provenance: String(options?.provenance) });
    session.requireTrusted(options, 'submit a plan');
  }
  session.requireIdle('submitPlan');
  if (session.state !== 'TERMINATED') session.requireMode('plan', 'submitPlan');
  session.requireTransition('APPROVE_PLAN', 'submitPlan');
  const intent = session.intent!;
  let validated: ValidatedPlan;
  try {
    validated = createPlan(plan, intent);
  } catch (error) {
    if (PlanError.isInstance(error)) {
      await session.record('plan.rejected', {
        reason: 'invalid',
        errors: error.details['errors'] ?? [],
        step: error.details['step'],
      });
    }
    throw error;
  }
  const epoch = session.epoch;
  const outcome = await review(session, validated, options.provenance);
  if (session.epoch !== epoch && session.state !== 'TERMINATED') {
    throw new RuntimeStateError(
      'submitPlan did not approve the plan: the session changed while it was reviewed.',
      {
        state: session.state,
        operation: 'submitPlan',
      },
    );
  }
  const mode = session.config.mode;
  if (outcome.denied !== undefined && mode === 'enforce') {
    const { step, action, decision } = outcome.denied;
    await session.record('plan.rejected', {
      reason: 'policy',
      step,
      action,
      rules: decision.rules,
      detail: decision.reason,
      policy: session.policyDigest,
    });
    throw new PlanError(`Plan rejected: step ${step} ("${action}") is denied: ${decision.reason}`, {
      step,
      action,
      rules: decision.rules,
      reason: decision.reason,
      policy: session.policyDigest,
    });
  }
  session.requireIdle('submitPlan');
  session.requireTransition('APPROVE_PLAN', 'submitPlan');
  const replacing = session.plan !== undefined;
  session.dropPlan();
  session.sessionMode = 'plan';
  session.plan = validated;
  session.fixedArgs = validated.steps.map((step) =>
    step.args === undefined ? undefined : fixedArgsOf(canonicalJson(step.args)),
  );
  await Promise.all([
    session.record('plan.approved', {
      planHash: validated.hash,
      intentVersion: intent.version,
      steps: validated.steps.length,
      actions: validated.steps.map((step) => step.action_id),
      escalations: outcome.escalations,
      provenance: options.provenance,
      mode,
      enforced: mode === 'enforce',
      ...(outcome.denied === undefined
        ? {}
        : { wouldReject: { step: outcome.denied.step, rules: outcome.denied.decision.rules } }),
    }),
    session.move('APPROVE_PLAN'),
  ]);
  if (replacing) await session.revokeSessionTokens('plan_changed');
}

/** `reloadPolicy`: swaps the policy and revokes every token of the session. */
export async function reloadPolicy(session: Session, policy: PolicyEvaluator): Promise<void> {
  if (session.state === 'TERMINATED') throw session.terminatedError('reloadPolicy');
  if (session.state === 'ESCALATION_REQUIRED') {
    throw new RuntimeStateError(
      'reloadPolicy is not allowed while an escalation is pending: wait for the answer or terminate the session.',
      { state: session.state, operation: 'reloadPolicy' },
    );
  }
  if (!isPolicyEvaluator(policy)) {
    throw configError('policy', 'reloadPolicy needs a PolicyEvaluator (evaluate, mayPermit, digest).');
  }
  const previous = session.policyDigest;
  session.policy = policy;
  session.policyDigest = readDigest(policy);
  session.epoch++;
  session.voidAuthorizations();
  await session.revokeSessionTokens(
    'policy_reloaded',
    { previousPolicy: previous, policy: session.policyDigest },
    true,
  );
}

/** `terminate`: ends the session, revokes its tokens, flushes the sink. Idempotent. */
export async function terminate(session: Session, reason: string): Promise<void> {
  if (session.state === 'TERMINATED') return;
  const from = session.enterTerminated('TERMINATE', reason);
  let auditFailure: unknown;
  const note = async (record: Promise<void>): Promise<void> => {
    try {
      await record;
    } catch (error) {
      auditFailure ??= error;
    }
  };
  await note(session.record('state.changed', { from, to: 'TERMINATED', event: 'TERMINATE' }));
  const { authority, tenant, sessionId } = session.config;
  let revocationFailure: unknown;
  try {
    const count = await authority.revokeSession(tenant, sessionId, 'terminated');
    await note(session.record('token.revoked', { reason: 'terminated', count }));
  } catch (error) {
    revocationFailure = error;
  }
  await note(session.record('session.terminated', { reason, from }));
  if (auditFailure !== undefined) throw auditFailure;
  try {
    await session.recorder.flush();
  } catch (error) {
    throw new AuditError(
      'The audit sink failed to flush at termination.',
      { event: 'session.terminated' },
      { cause: error },
    );
  }
  if (revocationFailure !== undefined) {
    throw new InternalError(
      `The session is terminated, but the authority failed to revoke its tokens: ${messageOf(revocationFailure)}.`,
      { operation: 'revokeSession' },
      { cause: revocationFailure },
    );
  }
}
