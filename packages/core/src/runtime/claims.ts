import type { DeepReadonly } from '../deep-freeze.js';
import { isActionId } from '../action.js';
import { ActionError, ArgumentsError, RuntimeStateError } from '../errors.js';
import type { PlanStep } from '../plan.js';
import type { ProvenanceLabel, TokenBinding } from '../types.js';
import type { CallAppends } from './audit-recorder.js';
import { CallChain } from './call-chain.js';
import { type PreparedArgs, type PreparedCall, prepareArgs } from './prepared-call.js';
import type { Session } from './session.js';

/** @internal A call that passed the first stage: it holds the session's one slot until released. */
export interface Claim {
  readonly moved: Promise<void>;
  readonly epoch: number;
}

/** @internal A claimed plan step (or chain step, for gate.execute in calls mode). */
export interface StepClaim extends Claim {
  readonly step: DeepReadonly<PlanStep>;
}

function requireFree(session: Session, what: string, operation: string): void {
  if (session.state === 'TERMINATED') throw session.terminatedError(operation);
  if (session.stepInFlight || session.state === 'ESCALATION_REQUIRED') {
    throw new RuntimeStateError(`${what} cannot start: step ${session.inFlightStep} is in progress.`, {
      state: session.state,
      operation,
    });
  }
}

/**
 * @internal Synchronously reserves plan step `index`: no other call can pass this point until the
 * caller clears `stepInFlight`. Steps run in plan order.
 * @throws RuntimeStateError (`RUNTIME_STATE`).
 */
export function claimPlanStep(session: Session, index: number, operation: string): StepClaim {
  requireFree(session, `Step ${index}`, operation);
  session.requireMode('plan', operation);
  const plan = session.plan;
  const state = session.state;
  if ((state !== 'PLAN_APPROVED' && state !== 'EXECUTING') || plan === undefined) {
    throw new RuntimeStateError(`Step ${index} cannot run in state ${state}: no plan is approved.`, {
      state,
      step: index,
    });
  }
  if (!Number.isSafeInteger(index) || index !== session.nextStep) {
    const reason =
      session.nextStep >= plan.steps.length
        ? `every step of the plan (${plan.steps.length}) has run`
        : `steps run in plan order and the next one is ${session.nextStep}`;
    throw new RuntimeStateError(`Step ${String(index)} cannot run: ${reason}.`, {
      state,
      step: index,
      expected: session.nextStep,
    });
  }
  const step = plan.steps[index];
  if (step === undefined) {
    throw new RuntimeStateError(`Step ${index} cannot run: the plan has ${plan.steps.length} steps.`, {
      state,
      step: index,
    });
  }
  session.stepInFlight = true;
  session.inFlightStep = index;
  return { step, moved: session.move('BEGIN_STEP'), epoch: session.epoch };
}

/**
 * @internal Synchronously reserves the session for one calls-mode call; the first one puts the
 * session in calls mode (INTENT_SET → EXECUTING through BEGIN_CALL).
 * @throws RuntimeStateError (`RUNTIME_STATE`) naming the mode when the session runs a plan.
 */
export function claimCall(session: Session, operation: string): Claim {
  requireFree(session, 'A call', operation);
  session.requireMode('calls', operation);
  const state = session.state;
  const intent = session.intent;
  if ((state !== 'INTENT_SET' && state !== 'EXECUTING') || intent === undefined) {
    throw new RuntimeStateError(`${operation} is not allowed in state ${state}: set the intent first.`, {
      state,
      operation,
    });
  }
  session.sessionMode = 'calls';
  session.chain ??= new CallChain(intent.version);
  session.stepInFlight = true;
  // One call at a time: the call appends the chain's next step.
  session.inFlightStep = session.nextStep;
  return { moved: session.move('BEGIN_CALL'), epoch: session.epoch };
}

/**
 * @internal Reserves the session for `gate.execute` of chain step `index` (calls mode): the step
 * must exist; whether it is authorised is checked by the caller.
 */
export function claimChainStep(session: Session, index: number, operation: string): StepClaim {
  requireFree(session, `Step ${index}`, operation);
  const step = Number.isSafeInteger(index) ? session.chain?.step(index) : undefined;
  if (session.state !== 'EXECUTING' || step === undefined) {
    throw new RuntimeStateError(`Step ${String(index)} cannot run: no call was authorised at that index.`, {
      state: session.state,
      step: index,
    });
  }
  session.stepInFlight = true;
  session.inFlightStep = index;
  return { step, moved: session.move('BEGIN_CALL'), epoch: session.epoch };
}

/** @internal Claims the step `gate.execute` names, in the session's mode. */
export function claimForExecute(session: Session, index: number): StepClaim {
  return session.sessionMode === 'calls'
    ? claimChainStep(session, index, 'gate.execute')
    : claimPlanStep(session, index, 'gate.execute');
}

/** @internal Binds prepared arguments to step `index` of the plan (or chain) in force. */
export function bindCall(
  session: Session,
  index: number,
  action: string,
  prepared: PreparedArgs,
  planHash: string,
): PreparedCall {
  const binding: TokenBinding = Object.freeze({
    tenant: session.config.tenant,
    session: session.config.sessionId,
    intentVersion: session.intent!.version,
    planHash,
    stepIndex: index,
    action,
    argsHash: prepared.argsHash,
  });
  return {
    index,
    action,
    args: prepared.args,
    provenance: prepared.provenance,
    argLabels: prepared.argLabels,
    sources: prepared.sources,
    argsHash: prepared.argsHash,
    argsText: prepared.argsText,
    binding,
  };
}

/**
 * @internal Prepares a call of plan step `index` (plan mode), or of chain step `index` (calls mode,
 * for `gate.execute`), with the step's own hash. Plan steps with fixed args accept only those.
 * @throws ArgumentsError (`ARGS_INVALID`).
 */
export function prepareStep(
  session: Session,
  index: number,
  step: DeepReadonly<PlanStep>,
  rawArgs: Readonly<Record<string, unknown>> | undefined,
  declared: ProvenanceLabel | undefined,
): PreparedCall {
  const action = step.action_id;
  // Only a plan fixes arguments (calls mode has none); the hash is reused only for its own text.
  const fixed = session.fixedArgs[index];
  const prepared = prepareArgs(index, action, rawArgs, declared, session.config.defaultProvenance, fixed);
  if (session.sessionMode === 'calls') {
    // Other args than the proposal's fail at consume (`argsHash`): the token binds the proposal.
    return bindCall(session, index, action, prepared, session.chain!.headAfter(index)!);
  }
  if (fixed !== undefined && fixed.hash !== prepared.argsHash) {
    throw new ArgumentsError(
      `Step ${index} ("${action}"): arguments differ from those fixed by the approved plan.`,
      {
        step: index,
        action,
        field: 'args',
      },
    );
  }
  return bindCall(session, index, action, prepared, session.plan!.hash);
}

/**
 * @internal The calls-mode proposal stage: checks the action id, prepares the args, appends the step
 * to the chain (every proposal that gets this far, also ones later denied) and starts its
 * `plan.extended` record.
 * @throws ActionError (`ACTION_INVALID`), ArgumentsError (`ARGS_INVALID`).
 */
export function appendCall(
  session: Session,
  actionId: string,
  rawArgs: Readonly<Record<string, unknown>> | undefined,
  declared: ProvenanceLabel | undefined,
  appends: CallAppends,
): PreparedCall {
  const chain = session.chain!;
  const index = chain.length;
  if (!isActionId(actionId)) {
    throw new ActionError(
      `Call ${index}: "${String(actionId)}" is not an action id (letters, digits, '_', '.', ':', '-'; at most 128).`,
      { step: index, field: 'actionId' },
    );
  }
  const prepared = prepareArgs(index, actionId, rawArgs, declared, session.config.defaultProvenance);
  const link = chain.append({ action_id: actionId, args: prepared.args }, prepared.argsText);
  session.nextStep = chain.length;
  session.startRecord(appends, 'plan.extended', {
    index: link.index,
    action: actionId,
    argsDigest: prepared.argsHash,
    head: link.head,
    prev: link.prev,
  });
  return bindCall(session, index, actionId, prepared, link.head);
}
