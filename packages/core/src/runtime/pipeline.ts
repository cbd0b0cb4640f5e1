import { UnauthorizedActionError } from '../errors.js';
import type { Labeled } from '../labeled.js';
import { trustRank } from '../labels.js';
import type { AuthorityToken, ProvenanceLabel } from '../types.js';
import { CallAppends, RECORDED } from './audit-recorder.js';
import { appendCall, claimCall, claimForExecute, claimPlanStep, prepareStep } from './claims.js';
import { type CallProgress, undoProgress } from './decision-stage.js';
import { authorityFailure, consumeAndRun, decide, issue } from './gate.js';
import { checkToolArgs, type PreparedCall, resolveTool } from './prepared-call.js';
import type { Session } from './session.js';
import type { ToolLike } from './tool.js';

/** @internal The arguments of one call and the label of their plain values. */
export interface CallInput {
  readonly args?: Readonly<Record<string, unknown>>;
  readonly provenance?: ProvenanceLabel;
}

/**
 * The gate as one sequence of stages over one prepared call: claim → prepare → decide →
 * (escalate) → reserve usage → issue → consume → run → record. Each helper below is one way in.
 * A refusal anywhere after the reservation gives the usage back unless the token was consumed.
 */
async function guarded<T>(
  session: Session,
  appends: CallAppends,
  progress: CallProgress,
  body: () => Promise<T>,
): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw await refusal(session, appends, progress, error);
  }
}

/**
 * What a call refused with `error` rejects with, once the usage it holds is given back (unless its
 * tool started): the failure path of {@link guarded}, which the two hot paths inline (one closure
 * and one promise fewer per call).
 */
async function refusal(
  session: Session,
  appends: CallAppends,
  progress: CallProgress,
  error: unknown,
): Promise<unknown> {
  if (!progress.ran) await undoProgress(session, progress);
  return appends.failureOr(error);
}

/** `writeAtDecision`: the tool runs right after the decision, so the store may write the previous action then. */
function freshProgress(writeAtDecision: boolean): CallProgress {
  return { reservation: undefined, written: undefined, writeAtDecision, consumed: false, ran: false };
}

/** `executeStep`: plan step `index` from claim to record. */
export async function executeStep<Output>(
  session: Session,
  index: number,
  tool: ToolLike<Output>,
  input: CallInput,
): Promise<Labeled<Output>> {
  const { step, moved, epoch } = claimPlanStep(session, index, 'executeStep');
  try {
    if (moved !== RECORDED) await moved;
    const resolved = resolveTool(tool, step, index);
    const call = prepareStep(session, index, step, input.args, input.provenance);
    checkToolArgs(resolved, call.index, call.action, call.args);
    const appends = new CallAppends();
    const progress = freshProgress(true);
    try {
      const deciding = decide(session, call, epoch, appends, progress);
      if (deciding !== undefined) await deciding;
      const issuing = issue(session, call, epoch, appends);
      const token = issuing instanceof Promise ? await issuing : issuing;
      return await consumeAndRun(session, call, token, resolved, epoch, appends, progress);
    } catch (error) {
      throw await refusal(session, appends, progress, error);
    }
  } finally {
    session.stepInFlight = false;
  }
}

/** `call`: one calls-mode call from proposal to record. */
export async function runCall<Output>(
  session: Session,
  actionId: string,
  tool: ToolLike<Output>,
  input: CallInput,
): Promise<Labeled<Output>> {
  const { moved, epoch } = claimCall(session, 'call');
  const appends = new CallAppends();
  const progress = freshProgress(true);
  try {
    try {
      if (moved !== RECORDED) await moved;
      const call = appendCall(session, actionId, input.args, input.provenance, appends);
      const resolved = resolveTool(tool, { action_id: actionId }, call.index);
      checkToolArgs(resolved, call.index, call.action, call.args);
      const deciding = decide(session, call, epoch, appends, progress);
      if (deciding !== undefined) await deciding;
      const issuing = issue(session, call, epoch, appends);
      const token = issuing instanceof Promise ? await issuing : issuing;
      return await consumeAndRun(session, call, token, resolved, epoch, appends, progress);
    } catch (error) {
      throw await refusal(session, appends, progress, error);
    }
  } finally {
    session.stepInFlight = false;
  }
}

/**
 * Decides and issues, then keeps the token as the ONE outstanding authorisation of the session:
 * older ones (of this step or, in calls mode, of an earlier proposal) are voided — their tokens
 * revoked and their usage released — so only the latest authorisation can open the gate, with the
 * provenance it was itself decided with.
 */
async function authorizeCall(
  session: Session,
  call: PreparedCall,
  epoch: number,
  appends: CallAppends,
): Promise<AuthorityToken> {
  const progress = freshProgress(false);
  const token = await guarded(session, appends, progress, async () => {
    const deciding = decide(session, call, epoch, appends, progress);
    if (deciding !== undefined) await deciding;
    const issued = await issue(session, call, epoch, appends);
    const draining = appends.drain();
    if (draining !== undefined) await draining;
    return issued;
  });
  const older = [...session.authorizations.values()];
  session.authorizations.clear();
  session.authorizations.set(call.index, {
    token,
    fingerprint: token.fingerprint,
    provenance: call.provenance,
    epoch,
    reservation: progress.reservation,
  });
  for (const authorization of older) {
    await session.release(authorization.reservation);
    await session.revokeSuperseded(authorization);
  }
  return token;
}

/** `authorize`: plan step `index` up to its token. */
export async function authorizeStep(
  session: Session,
  index: number,
  input: CallInput,
): Promise<AuthorityToken> {
  const { step, moved, epoch } = claimPlanStep(session, index, 'authorize');
  try {
    if (moved !== RECORDED) await moved;
    const call = prepareStep(session, index, step, input.args, input.provenance);
    return await authorizeCall(session, call, epoch, new CallAppends());
  } finally {
    session.stepInFlight = false;
  }
}

/** `authorizeCall`: one calls-mode proposal up to its token; returns the token and the step index. */
export async function authorizeProposal(
  session: Session,
  actionId: string,
  input: CallInput,
): Promise<{ readonly token: AuthorityToken; readonly index: number }> {
  const { moved, epoch } = claimCall(session, 'authorizeCall');
  const appends = new CallAppends();
  try {
    const call = await guarded(session, appends, freshProgress(false), async () => {
      if (moved !== RECORDED) await moved;
      return appendCall(session, actionId, input.args, input.provenance, appends);
    });
    const token = await authorizeCall(session, call, epoch, appends);
    return Object.freeze({ token, index: call.index });
  } finally {
    session.stepInFlight = false;
  }
}

/**
 * Refuses a token that is not the step's outstanding authorisation. The authority is asked first,
 * so that its own refusal (replayed, revoked, expired, another tenant's, another binding) names the
 * reason; a token it would accept (an older authorisation of this very call) is spent by that
 * consumption and refused all the same. Never returns.
 */
async function refuseOtherToken(session: Session, call: PreparedCall, token: AuthorityToken): Promise<never> {
  try {
    await session.config.authority.consume(token, call.binding);
  } catch (error) {
    throw await authorityFailure(session, error, call, 'consume');
  }
  throw new UnauthorizedActionError(
    `Step ${call.index}: this token is not the step's outstanding authorisation (authorising a step again voids its older token); use the latest token.`,
    { step: call.index, field: 'token', reason: 'superseded' },
  );
}

/** `gate.execute`: runs the tool with a token from `authorize`/`authorizeCall`. */
export async function executeWithToken<Output>(
  session: Session,
  token: AuthorityToken,
  tool: ToolLike<Output>,
  index: number,
  args: Readonly<Record<string, unknown>> | undefined,
): Promise<Labeled<Output>> {
  const { step, moved, epoch } = claimForExecute(session, index);
  try {
    if (moved !== RECORDED) await moved;
    const authorization = session.authorizations.get(index);
    if (authorization === undefined || authorization.epoch !== session.epoch) {
      throw new UnauthorizedActionError(
        `No authorisation is outstanding for step ${index}; call authorize first.`,
        {
          step: index,
          field: 'token',
        },
      );
    }
    const resolved = resolveTool(tool, step, index);
    const call = prepareStep(session, index, step, args, authorization.provenance);
    if (typeof token?.fingerprint !== 'string' || token.fingerprint !== authorization.fingerprint) {
      await refuseOtherToken(session, call, token);
    }
    if (trustRank(call.provenance) < trustRank(authorization.provenance)) {
      throw new UnauthorizedActionError(
        `Step ${index}: the arguments are labelled ${call.provenance}, less trusted than the ${authorization.provenance} they were authorised with.`,
        { step: index, field: 'provenance' },
      );
    }
    checkToolArgs(resolved, call.index, call.action, call.args);
    const appends = new CallAppends();
    const progress: CallProgress = {
      reservation: authorization.reservation,
      written: undefined,
      writeAtDecision: false,
      consumed: false,
      ran: false,
    };
    try {
      return await consumeAndRun(session, call, token, resolved, epoch, appends, progress);
    } catch (error) {
      // The authorisation stays outstanding (with its reservation) unless the token was spent.
      if (progress.consumed && !progress.ran) {
        session.authorizations.delete(index);
        await session.release(progress.reservation);
      }
      throw await appends.failureOr(error);
    }
  } finally {
    session.stepInFlight = false;
  }
}
