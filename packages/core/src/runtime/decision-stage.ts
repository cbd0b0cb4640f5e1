import { randomUUID } from 'node:crypto';
import type { ValidatedIntent } from '../intent.js';
import type { PolicyEvaluator } from '../ports/policy-evaluator.js';
import type { UsageCounter, UsageLimit, UsagePreviousWrite, UsageReservation } from '../ports/usage-store.js';
import type { ActionRequest, PolicyDecision } from '../types.js';
import { escalateByIntent, evaluateSafely, outsideIntent, POLICY_FAILURE_CODE } from './policy-decisions.js';
import type { PreparedCall } from './prepared-call.js';
import { revocationDenial } from './revocation-check.js';
import type { Session } from './session.js';
import {
  beginChecked,
  beginsInOneStep,
  bounded,
  countedLimits,
  isThenable,
  limitDenial,
  storeFailureDenial,
  undoQuietly,
} from './usage.js';

/**
 * @internal What one call has done so far that a refusal must undo: the usage it reserved and the
 * previous action it wrote are taken back unless the tool started (a call refused anywhere before
 * its tool runs does not count and does not become the previous action).
 */
export interface CallProgress {
  reservation: UsageReservation | undefined;
  /** The previous action `UsageStore.begin` wrote for this call; consume then writes nothing. */
  written: UsagePreviousWrite | undefined;
  /** The tool runs right after the decision (not a token kept by `authorize`): `begin` may write. */
  readonly writeAtDecision: boolean;
  consumed: boolean;
  ran: boolean;
}

/** @internal Takes back, once, what a call refused before its tool ran holds in the usage store. */
export function undoProgress(session: Session, progress: CallProgress): Promise<void> {
  const { reservation, written } = progress;
  progress.reservation = undefined;
  progress.written = undefined;
  return undoQuietly(session.config.usage, reservation, written, session.config.usageTimeoutMs);
}

const DISABLED_REASON = 'Enforcement is disabled; the policy was not consulted.';

function requestOf(session: Session, call: PreparedCall, previousAction: string | undefined): ActionRequest {
  // Literals of fixed shape, the optional fields added after them: a spread of `{}` per absent field
  // cost more than the rest of the request.
  const about: { id: string; previousAction?: string } = { id: session.config.sessionId };
  if (previousAction !== undefined) about.previousAction = previousAction;
  const request: { -readonly [K in keyof ActionRequest]: ActionRequest[K] } = {
    tenant: session.config.tenant,
    action: call.action,
    args: call.args as Readonly<Record<string, unknown>>,
    provenance: call.provenance,
    session: Object.freeze(about),
    intent: session.scope!,
  };
  if (call.argLabels !== undefined) request.argLabels = call.argLabels;
  return Object.freeze(request);
}

/**
 * The decision stage: the revocation feed, the intent, then the previous action from the usage store, the policy, the
 * intent's escalations, then the usage reservation of every limit the action counts against (an
 * ALLOW or ESCALATE only). With a store that has `begin`, the store work is one call made before
 * the policy ({@link decisionInOneStep}). Never throws: every failure is a DENY.
 * @internal
 */
export function decisionFor(
  session: Session,
  call: PreparedCall,
  progress: CallProgress,
): PolicyDecision | Promise<PolicyDecision> {
  const { config } = session;
  const digest = session.policyDigest;
  if (config.mode === 'disabled') {
    return Object.freeze({ decision: 'ALLOW', rules: [], reason: DISABLED_REASON, policy: digest });
  }
  const revoked = revocationDenial(session);
  if (revoked !== undefined) return revoked;
  const intent = session.intent!.value;
  const outside = outsideIntent(intent, call.action, digest);
  if (outside !== undefined) return outside;
  const policy = session.policy;
  const counted = countedLimits(policy, session.scopes, call.action, digest, POLICY_FAILURE_CODE);
  if ('counters' in counted && beginsInOneStep(config.usage))
    return decisionInOneStep(session, call, progress, counted.limits, counted.counters);
  let read: unknown;
  try {
    read = bounded(
      () => config.usage.previousAction(session.previousKey),
      config.usageTimeoutMs,
      'previousAction',
    );
  } catch (error) {
    return storeFailureDenial(error, digest);
  }
  const asked: Asked = { session, call, progress, policy, intent, digest, counted };
  // An in-process store answers at once: the decision is then made without a promise or a microtask.
  if (isThenable(read)) {
    return read.then(
      (previous) => decisionWith(asked, previous),
      (error: unknown) => storeFailureDenial(error, digest),
    );
  }
  return decisionWith(asked, read);
}

/** What {@link decisionFor} read before the previous action: the policy and intent of that moment. */
interface Asked {
  readonly session: Session;
  readonly call: PreparedCall;
  readonly progress: CallProgress;
  readonly policy: PolicyEvaluator;
  readonly intent: ValidatedIntent['value'];
  readonly digest: string;
  readonly counted: ReturnType<typeof countedLimits>;
}

/** The policy's decision given the previous action, then the reservation of the action's limits. */
function decisionWith(asked: Asked, previous: unknown): PolicyDecision | Promise<PolicyDecision> {
  const { session, call, policy, intent, digest, counted } = asked;
  if (previous !== undefined && typeof previous !== 'string') {
    return storeFailureDenial(new Error('the previous action is not a string'), digest);
  }
  const decision = escalateByIntent(
    evaluateSafely(policy, digest, requestOf(session, call, previous as string | undefined)),
    intent,
    call.action,
  );
  if (decision.decision === 'DENY') return decision;
  if ('denial' in counted) return counted.denial;
  const { limits, counters } = counted;
  if (limits.length === 0) return decision;
  return reserved(asked, decision, limits, counters);
}

/** Reserves one use of every limit the action counts against; a refusal or a failure is a DENY. */
async function reserved(
  asked: Asked,
  decision: PolicyDecision,
  limits: readonly UsageLimit[],
  counters: readonly UsageCounter[],
): Promise<PolicyDecision> {
  const { session, progress, digest } = asked;
  const { config } = session;
  try {
    const result = await bounded(
      () => config.usage.acquire({ counters, now: config.clock.now() }),
      config.usageTimeoutMs,
      'acquire',
    );
    if (typeof result !== 'object' || result === null || typeof result.ok !== 'boolean')
      throw new Error('acquire returned something that is not an answer');
    if (result.ok) {
      progress.reservation = result.reservation;
      return decision;
    }
    return refusedDenial(limits, counters, result.key, result.used, digest);
  } catch (error) {
    return storeFailureDenial(error, digest);
  }
}

function refusedDenial(
  limits: readonly UsageLimit[],
  counters: readonly UsageCounter[],
  key: unknown,
  used: unknown,
  digest: string,
): PolicyDecision {
  const index = counters.findIndex((counter) => counter.key === key);
  const limit = limits[index] ?? limits[0]!;
  return limitDenial(limit, typeof used === 'number' ? used : limit.max, digest);
}

/**
 * The decision with one store call: `begin` reads the previous action, reserves every counter and
 * (for a call that runs at once) writes the call's action, before the policy is asked (a limit does
 * not depend on the previous action). What the decision does not keep is undone in one more call:
 * an enforced DENY undoes both, an observed DENY gives the uses back (its tool runs), an enforced
 * ESCALATE takes the write back while it holds the uses (consume writes it again after approval).
 */
async function decisionInOneStep(
  session: Session,
  call: PreparedCall,
  progress: CallProgress,
  limits: readonly UsageLimit[],
  counters: readonly UsageCounter[],
): Promise<PolicyDecision> {
  const { config } = session;
  const digest = session.policyDigest;
  let begun: Awaited<ReturnType<typeof beginChecked>>;
  const previousKey = session.previousKey;
  const version = progress.writeAtDecision ? randomUUID() : undefined;
  try {
    const now = config.clock.now();
    const request =
      version === undefined
        ? { counters, now, previousKey }
        : { counters, now, previousKey, action: call.action, version };
    begun = await beginChecked(config.usage, request, config.usageTimeoutMs);
  } catch (error) {
    // A begin that failed or timed out may still run later: void its write (best effort, not awaited).
    if (version !== undefined)
      void undoQuietly(config.usage, undefined, { key: previousKey, version }, config.usageTimeoutMs);
    return storeFailureDenial(error, digest);
  }
  const { result } = begun;
  const decision = escalateByIntent(
    evaluateSafely(session.policy, digest, requestOf(session, call, begun.previous)),
    session.intent!.value,
    call.action,
  );
  if (!result.ok) {
    return decision.decision === 'DENY'
      ? decision
      : refusedDenial(limits, counters, result.key, result.used, digest);
  }
  progress.reservation = result.reservation;
  progress.written = begun.written;
  const enforced = config.mode === 'enforce';
  if (decision.decision === 'DENY') {
    if (enforced) await undoProgress(session, progress);
    else {
      progress.reservation = undefined;
      await undoQuietly(config.usage, result.reservation, undefined, config.usageTimeoutMs);
    }
  } else if (decision.decision === 'ESCALATE' && enforced && progress.written !== undefined) {
    const written = progress.written;
    progress.written = undefined;
    await undoQuietly(config.usage, undefined, written, config.usageTimeoutMs);
  }
  return decision;
}
