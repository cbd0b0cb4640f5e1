import { ApeError, messageOf, PolicyDenyError, TenantIsolationError } from '../errors.js';
import { createLabeled, type Labeled } from '../labeled.js';
import type { AuthorityToken, PolicyDecision } from '../types.js';
import { type CallAppends, RECORDED } from './audit-recorder.js';
import { type CallProgress, decisionFor } from './decision-stage.js';
import { escalate } from './escalation-wait.js';
import type { PreparedCall, ResolvedTool } from './prepared-call.js';
import { refuseIfRevoked } from './revocation-check.js';
import type { Session } from './session.js';
import { bounded, isThenable, USAGE_STORE_FAILURE_CODE } from './usage.js';

function describeError(error: unknown): Record<string, unknown> {
  if (ApeError.isInstance(error)) return { name: error.name, code: error.code };
  return { name: error instanceof Error ? error.name : typeof error };
}

/**
 * The decide stage, then DENY/ESCALATE handling per mode. Returns nothing when the call may have a
 * token and nothing had to be awaited (an in-process usage store, an ALLOW); otherwise a promise
 * that resolves when it may. On the path to a token (ALLOW, or not enforced) the `decision.made`
 * append is started into `appends` rather than awaited; a DENY or ESCALATE awaits it here. A DENY
 * revokes the session's tokens and voids its authorisations, and does not terminate.
 */
export function decide(
  session: Session,
  call: PreparedCall,
  epoch: number,
  appends: CallAppends,
  progress: CallProgress,
): void | Promise<void> {
  const pending = decisionFor(session, call, progress);
  if (isThenable(pending))
    return pending.then((decision) => decided(session, call, epoch, appends, decision));
  return decided(session, call, epoch, appends, pending);
}

function decided(
  session: Session,
  call: PreparedCall,
  epoch: number,
  appends: CallAppends,
  decision: PolicyDecision,
): void | Promise<void> {
  const { mode, auditArgs } = session.config;
  const enforced = mode === 'enforce';
  // One object literal of fixed shape, the optional fields added after it: spreading `{}` for each
  // absent field cost about 0.1 µs per call. Key order does not reach the log (canonical JSON).
  const data: Record<string, unknown> = {
    stepIndex: call.index,
    action: call.action,
    decision: decision.decision,
    rules: decision.rules,
    reason: decision.reason,
    policy: decision.policy,
    argsDigest: call.argsHash,
    // Frozen, like every container of recorded data (a sink may remember the data's text).
    argNames: Object.freeze(Object.keys(call.args).sort()),
    provenance: call.provenance,
    sources: call.sources,
    mode,
    enforced,
  };
  if (decision.code !== undefined) data['code'] = decision.code;
  const clear = clearArgs(auditArgs, call);
  if (clear !== undefined) data['args'] = clear;
  if (call.argLabels !== undefined) data['argLabels'] = call.argLabels;
  if (!enforced || decision.decision === 'ALLOW') {
    session.startRecord(appends, 'decision.made', data);
    session.checkEpoch(epoch, call.index);
    return;
  }
  return refuseOrEscalate(session, call, epoch, decision, session.record('decision.made', data));
}

/** An enforced DENY or ESCALATE, once its `decision.made` record is in. */
async function refuseOrEscalate(
  session: Session,
  call: PreparedCall,
  epoch: number,
  decision: PolicyDecision,
  recorded: Promise<void>,
): Promise<void> {
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

/** The arguments `auditArgs` names that the call has, in clear; `undefined` when there are none. */
function clearArgs(names: ReadonlySet<string>, call: PreparedCall): Record<string, unknown> | undefined {
  if (names.size === 0) return undefined;
  const clear: Record<string, unknown> = {};
  let any = false;
  for (const name of names) {
    if (Object.hasOwn(call.args, name)) {
      Object.defineProperty(clear, name, { value: call.args[name], enumerable: true });
      any = true;
    }
  }
  return any ? Object.freeze(clear) : undefined;
}

/**
 * The issue stage: a token bound to the call, and its `token.issued` append started. Synchronous
 * (no promise) when the authority issues synchronously (`issueSync`) and nothing else waits;
 * otherwise a promise of the token.
 */
export function issue(
  session: Session,
  call: PreparedCall,
  epoch: number,
  appends: CallAppends,
): AuthorityToken | Promise<AuthorityToken> {
  const revokedBeforeIssue = refuseIfRevoked(session, call, 'issue');
  if (revokedBeforeIssue !== undefined) return revokedBeforeIssue;
  const { authority } = session.config;
  let token: AuthorityToken | undefined;
  try {
    token = authority.issueSync?.(call.binding);
    if (isThenable(token)) throw brokenSyncForm(token, 'issueSync');
  } catch (error) {
    return refusedToIssue(session, call, error);
  }
  if (token === undefined) return issueLater(session, call, epoch, appends);
  return issued(session, call, epoch, appends, token);
}

/** The issue stage through the authority's (asynchronous) `issue`. */
async function issueLater(
  session: Session,
  call: PreparedCall,
  epoch: number,
  appends: CallAppends,
): Promise<AuthorityToken> {
  let token: AuthorityToken;
  try {
    token = await session.config.authority.issue(call.binding);
  } catch (error) {
    return refusedToIssue(session, call, error);
  }
  return issued(session, call, epoch, appends, token);
}

/**
 * A synchronous form that answered with a promise breaks the port's contract: the call is refused
 * (whatever the promise holds), and its rejection is handled so it cannot crash the process.
 */
function brokenSyncForm(answer: PromiseLike<unknown>, method: 'issueSync' | 'consumeSync'): Error {
  Promise.resolve(answer).catch(() => undefined);
  return new Error(`its ${method} answered with a promise`);
}

async function refusedToIssue(session: Session, call: PreparedCall, error: unknown): Promise<never> {
  throw await authorityFailure(session, error, call, 'issue');
}

/**
 * A token the authority answered with: refused unless it has a string fingerprint (the rest of the
 * gate reads it); revoked if the session moved on meanwhile; otherwise its `token.issued` append starts.
 */
function issued(
  session: Session,
  call: PreparedCall,
  epoch: number,
  appends: CallAppends,
  token: AuthorityToken,
): AuthorityToken | Promise<AuthorityToken> {
  // A malformed answer is an authority failure too.
  if (typeof token?.fingerprint !== 'string') {
    return refusedToIssue(session, call, new Error('it returned no token with a string fingerprint'));
  }
  if (session.epoch !== epoch) return revokeStale(session, call, token);
  session.startRecord(appends, 'token.issued', {
    fingerprint: token.fingerprint,
    stepIndex: call.index,
    action: call.action,
    expiresAt: token.expiresAt,
  });
  return token;
}

/** A token issued for an epoch the session left (terminate or reload meanwhile): revoked, and the call refused. */
async function revokeStale(session: Session, call: PreparedCall, token: AuthorityToken): Promise<never> {
  await Promise.resolve(session.config.authority.revoke(token, 'explicit')).catch(() => false);
  throw session.epochChanged(call.index);
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
  // issue() and gate.execute refuse a token without a string fingerprint before this point.
  const { fingerprint } = token;
  const revokedBeforeConsume = refuseIfRevoked(session, call, 'consume');
  if (revokedBeforeConsume !== undefined) await revokedBeforeConsume;
  try {
    // The synchronous form when the authority has one that answers (no promise per call).
    const consumed: unknown = config.authority.consumeSync?.(token, call.binding);
    if (isThenable(consumed)) throw brokenSyncForm(consumed, 'consumeSync');
    if (consumed !== true) await config.authority.consume(token, call.binding);
  } catch (error) {
    throw await authorityFailure(session, error, call, 'consume');
  }
  progress.consumed = true;
  session.startRecord(appends, 'token.consumed', { fingerprint, stepIndex: call.index, action: call.action });
  if (config.mode !== 'disabled' && progress.written === undefined) {
    const writing = writePreviousAction(session, call);
    if (writing !== undefined) await writing;
  }
  const draining = appends.drain();
  if (draining !== undefined) await draining;
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
  const voiding = session.voidStepAuthorization(call.index, fingerprint);
  if (voiding !== undefined) await voiding;
  progress.ran = true;
  let output: Output;
  try {
    // A synchronous tool's answer is not awaited (no microtask hop); a thenable is.
    const ran = tool.run(call.args as Readonly<Record<string, unknown>>);
    output = isThenable(ran) ? await ran : ran;
  } catch (error) {
    const end = endOfRun(session, startedAt);
    await session.record(
      'tool.executed',
      {
        stepIndex: call.index,
        action: call.action,
        ok: false,
        error: describeError(error),
        durationMs: end.durationMs,
      },
      end.at,
    );
    throw error;
  }
  const end = endOfRun(session, startedAt);
  const recorded = session.record(
    'tool.executed',
    { stepIndex: call.index, action: call.action, ok: true, durationMs: end.durationMs },
    end.at,
  );
  if (recorded !== RECORDED) await recorded;
  return createLabeled(output, tool.outputLabel, ['tool:' + call.action]);
}

/**
 * One clock reading ends a tool's run and dates its `tool.executed` record. A clock that throws
 * gives a duration of 0 and no reading (`at`), so the record reads the clock itself and fails closed.
 */
function endOfRun(session: Session, startedAt: number): { at: number | undefined; durationMs: number } {
  let at: number;
  try {
    at = session.config.clock.now();
  } catch {
    return { at: undefined, durationMs: 0 };
  }
  return { at, durationMs: Math.max(0, at - startedAt) };
}

/**
 * Writes the call's action as the previous action, bounded; a failure denies (the tool does not
 * run). `undefined` when the store wrote at once, else a promise of the write.
 * @throws PolicyDenyError (`USAGE_STORE_FAILURE`) when the store threw.
 */
function writePreviousAction(session: Session, call: PreparedCall): Promise<void> | undefined {
  const { usage, usageTimeoutMs } = session.config;
  let written: void | Promise<void>;
  try {
    written = bounded(
      () => usage.setPreviousAction([session.previousKey], call.action),
      usageTimeoutMs,
      'setPreviousAction',
    );
  } catch (error) {
    throw previousActionFailure(call, error);
  }
  if (!isThenable(written)) return undefined;
  return written.then(undefined, (error: unknown) => {
    throw previousActionFailure(call, error);
  });
}

function previousActionFailure(call: PreparedCall, error: unknown): PolicyDenyError {
  return new PolicyDenyError(
    `Step ${call.index} ("${call.action}") is denied: the usage store could not record the previous action (${messageOf(error)}); failing closed.`,
    { step: call.index, action: call.action, code: USAGE_STORE_FAILURE_CODE },
    { cause: error },
  );
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
