import { randomUUID } from 'node:crypto';
import { ApeError, messageOf, PolicyDenyError, TenantIsolationError } from '../errors.js';
import { createLabeled, type Labeled } from '../labeled.js';
import type { UsageCounter, UsageLimit, UsagePreviousWrite, UsageReservation } from '../ports/usage-store.js';
import type { ActionRequest, AuthorityToken, PolicyDecision } from '../types.js';
import type { CallAppends } from './audit-recorder.js';
import { escalate } from './escalation-wait.js';
import { escalateByIntent, evaluateSafely, outsideIntent, POLICY_FAILURE_CODE } from './policy-decisions.js';
import type { PreparedCall, ResolvedTool } from './prepared-call.js';
import { refuseIfRevoked, revocationDenial } from './revocation-check.js';
import type { Session } from './session.js';
import {
  beginChecked,
  beginsInOneStep,
  bounded,
  countedLimits,
  limitDenial,
  previousActionKey,
  storeFailureDenial,
  USAGE_STORE_FAILURE_CODE,
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

function describeError(error: unknown): Record<string, unknown> {
  if (ApeError.isInstance(error)) return { name: error.name, code: error.code };
  return { name: error instanceof Error ? error.name : typeof error };
}

const DISABLED_REASON = 'Enforcement is disabled; the policy was not consulted.';

function requestOf(session: Session, call: PreparedCall, previousAction: string | undefined): ActionRequest {
  return Object.freeze({
    tenant: session.config.tenant,
    action: call.action,
    args: call.args as Readonly<Record<string, unknown>>,
    provenance: call.provenance,
    ...(call.argLabels === undefined ? {} : { argLabels: call.argLabels }),
    session: Object.freeze({
      id: session.config.sessionId,
      ...(previousAction === undefined ? {} : { previousAction }),
    }),
    intent: session.scope!,
  });
}

/**
 * The decision stage: the revocation feed, the intent, then the previous action from the usage store, the policy, the
 * intent's escalations, then the usage reservation of every limit the action counts against (an
 * ALLOW or ESCALATE only). With a store that has `begin`, the store work is one call made before
 * the policy ({@link decisionInOneStep}). Never throws: every failure is a DENY.
 */
async function decisionFor(
  session: Session,
  call: PreparedCall,
  progress: CallProgress,
): Promise<PolicyDecision> {
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
  let previous: unknown;
  try {
    previous = await bounded(
      () => config.usage.previousAction(previousActionKey(session.scopes)),
      config.usageTimeoutMs,
      'previousAction',
    );
    if (previous !== undefined && typeof previous !== 'string')
      throw new Error('the previous action is not a string');
  } catch (error) {
    return storeFailureDenial(error, digest);
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
  const previousKey = previousActionKey(session.scopes);
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

/**
 * The decide stage, then DENY/ESCALATE handling per mode. Resolves when the call may have a token.
 * On the path to a token (ALLOW, or not enforced) the `decision.made` append is started into
 * `appends` rather than awaited; a DENY or ESCALATE awaits it here. A DENY revokes the session's
 * tokens and voids its authorisations, and does not terminate.
 */
export async function decide(
  session: Session,
  call: PreparedCall,
  epoch: number,
  appends: CallAppends,
  progress: CallProgress,
): Promise<void> {
  const decision = await decisionFor(session, call, progress);
  const { mode, auditArgs } = session.config;
  const enforced = mode === 'enforce';
  const recorded = session.record('decision.made', {
    stepIndex: call.index,
    action: call.action,
    decision: decision.decision,
    rules: decision.rules,
    reason: decision.reason,
    policy: decision.policy,
    ...(decision.code === undefined ? {} : { code: decision.code }),
    argsDigest: call.argsHash,
    argNames: Object.keys(call.args).sort(),
    ...clearArgs(auditArgs, call),
    provenance: call.provenance,
    ...(call.argLabels === undefined ? {} : { argLabels: call.argLabels }),
    sources: call.sources,
    mode,
    enforced,
  });
  if (!enforced || decision.decision === 'ALLOW') {
    appends.start(recorded);
    session.checkEpoch(epoch, call.index);
    return;
  }
  await recorded;
  session.checkEpoch(epoch, call.index);
  if (decision.decision === 'DENY') {
    session.voidAuthorizations();
    await session.revokeSessionTokens('policy_violation', { stepIndex: call.index });
    throw new PolicyDenyError(`Step ${call.index} ("${call.action}") is denied: ${decision.reason}`, {
      step: call.index,
      action: call.action,
      rules: decision.rules,
      reason: decision.reason,
      policy: decision.policy,
      provenance: call.provenance,
      ...(decision.code === undefined ? {} : { code: decision.code }),
    });
  }
  await escalate(session, call, decision, epoch);
}

function clearArgs(names: ReadonlySet<string>, call: PreparedCall): { args?: Record<string, unknown> } {
  if (names.size === 0) return {};
  const clear: Record<string, unknown> = {};
  let any = false;
  for (const name of names) {
    if (Object.hasOwn(call.args, name)) {
      Object.defineProperty(clear, name, { value: call.args[name], enumerable: true });
      any = true;
    }
  }
  return any ? { args: clear } : {};
}

/** The issue stage: a token bound to the call, and its `token.issued` append started. */
export async function issue(
  session: Session,
  call: PreparedCall,
  epoch: number,
  appends: CallAppends,
): Promise<AuthorityToken> {
  const { authority } = session.config;
  await refuseIfRevoked(session, call, 'issue');
  let token: AuthorityToken;
  try {
    token = await authority.issue(call.binding);
  } catch (error) {
    throw await authorityFailure(session, error, call, 'issue');
  }
  if (session.epoch !== epoch) {
    await Promise.resolve(authority.revoke(token, 'explicit')).catch(() => false);
    session.checkEpoch(epoch, call.index);
  }
  appends.start(
    session.record('token.issued', {
      fingerprint: token.fingerprint,
      stepIndex: call.index,
      action: call.action,
      expiresAt: token.expiresAt,
    }),
  );
  return token;
}

/**
 * The consume, run and record stages: consumes the token, writes the previous action, awaits every
 * pending append (`plan.extended`, `decision.made`, `token.issued`, `token.consumed`, in call order)
 * and re-checks the epoch before the tool runs: an audit failure, or a terminate/reload racing the
 * step, throws and the tool is not called.
 */
export async function consumeAndRun<Output>(
  session: Session,
  call: PreparedCall,
  token: AuthorityToken,
  tool: ResolvedTool<Output>,
  epoch: number,
  appends: CallAppends,
  progress: CallProgress,
): Promise<Labeled<Output>> {
  const { config } = session;
  session.checkEpoch(epoch, call.index);
  const fingerprint = typeof token?.fingerprint === 'string' ? token.fingerprint : 'unknown';
  await refuseIfRevoked(session, call, 'consume');
  try {
    await config.authority.consume(token, call.binding);
  } catch (error) {
    throw await authorityFailure(session, error, call, 'consume');
  }
  progress.consumed = true;
  appends.start(
    session.record('token.consumed', { fingerprint, stepIndex: call.index, action: call.action }),
  );
  if (config.mode !== 'disabled' && progress.written === undefined) await writePreviousAction(session, call);
  await appends.drain();
  session.checkEpoch(epoch, call.index);
  let startedAt: number;
  try {
    startedAt = config.clock.now();
  } catch (error) {
    throw new PolicyDenyError(
      `Step ${call.index} ("${call.action}") is denied: the clock failed (${messageOf(error)}); failing closed.`,
      { step: call.index, action: call.action, code: 'CLOCK_FAILURE' },
      { cause: error },
    );
  }
  if (session.sessionMode !== 'calls') session.nextStep = call.index + 1;
  await session.voidStepAuthorization(call.index, fingerprint);
  progress.ran = true;
  let output: Output;
  try {
    output = await tool.run(call.args as Readonly<Record<string, unknown>>);
  } catch (error) {
    await session.record('tool.executed', {
      stepIndex: call.index,
      action: call.action,
      ok: false,
      error: describeError(error),
      durationMs: elapsedSince(session, startedAt),
    });
    throw error;
  }
  await session.record('tool.executed', {
    stepIndex: call.index,
    action: call.action,
    ok: true,
    durationMs: elapsedSince(session, startedAt),
  });
  return createLabeled(output, tool.outputLabel, [`tool:${call.action}`]);
}

/** Writes the call's action as the previous action, bounded; a failure denies (the tool does not run). */
async function writePreviousAction(session: Session, call: PreparedCall): Promise<void> {
  const { usage, usageTimeoutMs } = session.config;
  try {
    await bounded(
      () => usage.setPreviousAction([previousActionKey(session.scopes)], call.action),
      usageTimeoutMs,
      'setPreviousAction',
    );
  } catch (error) {
    throw new PolicyDenyError(
      `Step ${call.index} ("${call.action}") is denied: the usage store could not record the previous action (${messageOf(error)}); failing closed.`,
      { step: call.index, action: call.action, code: USAGE_STORE_FAILURE_CODE },
      { cause: error },
    );
  }
}

function elapsedSince(session: Session, startedAt: number): number {
  try {
    return Math.max(0, session.config.clock.now() - startedAt);
  } catch {
    return 0;
  }
}

/** @internal Maps an authority failure to the error the caller sees, revoking on tenant mismatch. */
export async function authorityFailure(
  session: Session,
  error: unknown,
  call: PreparedCall,
  operation: 'issue' | 'consume',
): Promise<ApeError> {
  if (TenantIsolationError.isInstance(error)) {
    await session.revokeSessionTokens('tenant_mismatch', { stepIndex: call.index });
    return error;
  }
  if (ApeError.isInstance(error)) return error;
  return new PolicyDenyError(
    `Step ${call.index} ("${call.action}") is denied: the authority failed to ${operation} a token (${messageOf(error)}); failing closed.`,
    { step: call.index, action: call.action, code: 'AUTHORITY_FAILURE' },
    { cause: error },
  );
}
