import { ConfigurationError } from '../errors.js';
import { hashCanonical } from '../canonical-json.js';
import type { EscalationResult } from '../ports/escalation-handler.js';
import type { PolicyEvaluator } from '../ports/policy-evaluator.js';
import type { PolicyDecision, ProvenanceLabel } from '../types.js';

/** How many escalations one conversation keeps waiting for an answer; past it the oldest is dropped (and denied). */
export const MAX_PENDING_APPROVALS = 1_000;

/** A human's answer to an escalated call, as a host hands it to an adapter. */
export interface HumanAnswer {
  /** Who answered (a user id): recorded in the audit log as the approver. */
  readonly approver: string;
  /** Why; recorded, and for a rejection passed on to the model. */
  readonly reason?: string;
}

/**
 * An escalation that waits for a human's answer, as an adapter lists it; each adapter adds the
 * framework's call id under its framework's name (`toolCallId`, `callId`).
 */
export interface PendingApprovalView {
  readonly action: string;
  /** The call's arguments (plain JSON): what the approver approves. */
  readonly args: Readonly<Record<string, unknown>>;
  /** The label of the arguments when the call was proposed. */
  readonly provenance: ProvenanceLabel;
  /** The policy's reason and rule ids. */
  readonly reason: string;
  readonly rules: readonly string[];
  /** Whether the thread's approve or deny (reject) has answered it. */
  readonly answered: boolean;
}

/** The canonical hash of a call's input; `undefined` for input that is not JSON (it matches nothing). */
export function hashOfInput(input: unknown): string | undefined {
  try {
    return hashCanonical(typeof input === 'object' && input !== null ? input : {});
  } catch {
    return undefined;
  }
}

/** True when both hashes exist and are equal: an input that is not JSON matches nothing. */
export function sameInputHash(left: string | undefined, right: string | undefined): boolean {
  return left !== undefined && left === right;
}

/**
 * Checks the shape of a human's answer before an adapter records it.
 * @throws ConfigurationError (`CONFIG_INVALID`, `details.field` `approver` or `reason`) for an
 *   answer without an approver or with a non-string reason.
 */
export function checkHumanAnswer(answer: HumanAnswer): void {
  if (
    typeof answer !== 'object' ||
    answer === null ||
    typeof answer.approver !== 'string' ||
    answer.approver.length === 0
  ) {
    throw new ConfigurationError('An answer needs `approver`: the id of the human who answered.', {
      field: 'approver',
    });
  }
  if (answer.reason !== undefined && typeof answer.reason !== 'string') {
    throw new ConfigurationError('`reason` must be a string.', { field: 'reason' });
  }
}

/**
 * What an adapter's escalation handler answers the gate: a denial by `adapterApprover`
 * (`SYSTEM_TRUSTED`) when `refusal` says why the recorded answer does not fit the call (or there is
 * no answer), otherwise the human's answer (`USER_TRUSTED`).
 */
export function escalationResultOf(
  adapterApprover: string,
  refusal: string | undefined,
  answer: { readonly approved: boolean; readonly approver: string; readonly reason?: unknown } | undefined,
): Promise<EscalationResult> {
  if (refusal !== undefined || answer === undefined) {
    return Promise.resolve({
      approved: false,
      approver: adapterApprover,
      provenance: 'SYSTEM_TRUSTED',
      reason: refusal ?? 'no answer.',
    });
  }
  return Promise.resolve({
    approved: answer.approved,
    approver: answer.approver,
    provenance: 'USER_TRUSTED',
    ...(typeof answer.reason === 'string' ? { reason: answer.reason } : {}),
  });
}

/**
 * Adds `value` under `key`, first dropping the oldest entry when the map holds
 * {@link MAX_PENDING_APPROVALS}: a conversation's waiting escalations stay bounded.
 */
export function rememberPending<T>(pending: Map<string, T>, key: string, value: T): void {
  if (pending.size >= MAX_PENDING_APPROVALS) {
    const oldest = pending.keys().next().value;
    if (oldest !== undefined) pending.delete(oldest);
  }
  pending.set(key, value);
}

/** The call an adapter's pre-check asks about (see {@link predictEscalation}). */
export interface PredictedCall {
  readonly tenant: string;
  readonly action: string;
  /** The call's plain arguments. */
  readonly args: Readonly<Record<string, unknown>>;
  /**
   * The effective label of the arguments, or how to compute it: a function is called only when the
   * policy is asked (most calls of most policies never are), so its argument walk is skipped.
   */
  readonly provenance: ProvenanceLabel | (() => ProvenanceLabel);
  readonly sessionId: string;
  readonly previousAction: string | undefined;
  readonly intent: {
    readonly allowed_actions: readonly string[];
    readonly forbidden_actions: readonly string[];
    readonly escalation_required?: readonly string[];
  };
}

/**
 * An adapter's pre-check: the policy's decision when the gate would escalate `call` (the policy
 * answers `ESCALATE`, or the intent lists the action in `escalation_required`), else `undefined`
 * (outside the intent, forbidden, denied, or permitted without escalation). Only a prediction: the
 * gate decides when the call runs. The policy is not asked when its `mayEscalate` says the action
 * can never escalate. Throws what the policy throws; adapters treat a throw as "no".
 */
export function predictEscalation(policy: PolicyEvaluator, call: PredictedCall): PolicyDecision | undefined {
  const intent = call.intent;
  if (!intent.allowed_actions.includes(call.action) || intent.forbidden_actions.includes(call.action)) {
    return undefined;
  }
  const required = (intent.escalation_required ?? []).includes(call.action);
  // No rule can escalate the action and the intent does not ask to: nothing to predict, no evaluation.
  if (!required && policy.mayEscalate?.(call.tenant, call.action) === false) return undefined;
  const decision = policy.evaluate({
    tenant: call.tenant,
    action: call.action,
    args: call.args,
    provenance: typeof call.provenance === 'function' ? call.provenance() : call.provenance,
    session: {
      id: call.sessionId,
      ...(call.previousAction === undefined ? {} : { previousAction: call.previousAction }),
    },
    intent: { allowed_actions: intent.allowed_actions, forbidden_actions: intent.forbidden_actions },
  });
  if (decision.decision === 'DENY') return undefined;
  if (decision.decision !== 'ESCALATE' && !required) {
    return undefined;
  }
  return decision;
}

/** What an adapter recorded for an escalated call: its binding and the human's answer, if any yet. */
export interface RecordedEscalation {
  readonly action: string;
  /** {@link hashOfInput} of the call's plain arguments. */
  readonly argsHash: string | undefined;
  readonly answer: (HumanAnswer & { readonly approved: boolean }) | undefined;
}

/**
 * What an adapter's escalation handler answers the gate for a call it escalated: the human's
 * recorded answer when `request` is that exact call (same action, same argument hash), else a
 * denial by `adapterApprover`; `noAnswer` is the denial's reason when no answer was recorded.
 */
export function answerOfRecorded(
  adapterApprover: string,
  recorded: RecordedEscalation,
  request: { readonly action: string; readonly args: unknown },
  noAnswer: string,
): Promise<EscalationResult> {
  if (recorded.action !== request.action || !sameInputHash(recorded.argsHash, hashOfInput(request.args))) {
    return escalationResultOf(
      adapterApprover,
      'the approval was given for another call; it approves nothing.',
      undefined,
    );
  }
  return escalationResultOf(
    adapterApprover,
    recorded.answer === undefined ? noAnswer : undefined,
    recorded.answer,
  );
}
