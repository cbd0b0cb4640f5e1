import { ConfigurationError } from '@ape/core';
import { checkHumanAnswer, type HumanAnswer } from '@ape/core/adapter';

/** The `type` of the value the adapter passes to LangGraph's `interrupt` for an escalated call. */
export const ESCALATION_INTERRUPT = 'ape.escalation';

/** The `type` of the resume value that answers an {@link ApeEscalation}. */
export const APPROVAL_ANSWER = 'ape.approval';

/**
 * What an escalated call shows the human: the interrupt value (`result.__interrupt__[i].value`).
 * Everything in it binds the answer to this exact call.
 */
export interface ApeEscalation {
  readonly type: typeof ESCALATION_INTERRUPT;
  /** The thread (lineage) of the call. */
  readonly lineage: string;
  readonly toolCallId: string;
  readonly action: string;
  /** The call's arguments (plain JSON): what the approver approves. */
  readonly args: Readonly<Record<string, unknown>>;
  /** The canonical hash of `args`. */
  readonly argsHash: string;
  /** The index the call takes in the session's chain. */
  readonly step: number;
  /** The policy's reason and rule ids. */
  readonly reason: string;
  readonly rules: readonly string[];
}

/** A human's answer to an escalated call: who answered (the approver recorded) and why. */
export interface ApprovalAnswer extends HumanAnswer {}

/** The resume value (`new Command({ resume })`) that answers an {@link ApeEscalation}. */
export interface ApeApproval {
  readonly type: typeof APPROVAL_ANSWER;
  readonly toolCallId: string;
  readonly action: string;
  readonly argsHash: string;
  readonly step: number;
  readonly approved: boolean;
  readonly approver: string;
  readonly reason?: string;
}

/**
 * The resume value approving `escalation` as `answer.approver`:
 * `agent.invoke(new Command({ resume: approve(escalation, { approver: 'alice' }) }), config)`.
 * It approves only the call it was made for (tool call id, action, argument hash, step).
 * @throws ConfigurationError (`CONFIG_INVALID`) for a value that is not an APE escalation or an answer without `approver`.
 */
export function approve(escalation: ApeEscalation, answer: ApprovalAnswer): ApeApproval {
  return answerOf(escalation, answer, true);
}

/**
 * The resume value denying `escalation` as `answer.approver`. The gate records the denial, which
 * ends the APE session; the next call of the thread starts a new one in the same lineage.
 * Same errors as {@link approve}.
 */
export function deny(escalation: ApeEscalation, answer: ApprovalAnswer): ApeApproval {
  return answerOf(escalation, answer, false);
}

/** True for a value the adapter passed to `interrupt`. */
export function isApeEscalation(value: unknown): value is ApeEscalation {
  const candidate = value as Partial<ApeEscalation> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    candidate.type === ESCALATION_INTERRUPT &&
    typeof candidate.toolCallId === 'string' &&
    typeof candidate.action === 'string' &&
    typeof candidate.argsHash === 'string' &&
    typeof candidate.step === 'number'
  );
}

function answerOf(escalation: ApeEscalation, answer: ApprovalAnswer, approved: boolean): ApeApproval {
  if (!isApeEscalation(escalation)) {
    throw new ConfigurationError(
      'approve/deny: expected the value of an APE interrupt (result.__interrupt__[i].value, type "ape.escalation").',
      { field: 'escalation' },
    );
  }
  checkHumanAnswer(answer);
  return Object.freeze({
    type: APPROVAL_ANSWER,
    toolCallId: escalation.toolCallId,
    action: escalation.action,
    argsHash: escalation.argsHash,
    step: escalation.step,
    approved,
    approver: answer.approver,
    ...(answer.reason === undefined ? {} : { reason: answer.reason }),
  });
}

/**
 * @internal Why `value` does not answer `escalation`, or `undefined` when it does: every binding
 * field must equal the call's, and the approver must be named.
 */
export function mismatchOf(escalation: ApeEscalation, value: unknown): string | undefined {
  const answer = value as Partial<ApeApproval> | null;
  if (typeof answer !== 'object' || answer === null || answer.type !== APPROVAL_ANSWER) {
    return 'the resume value is not an APE answer (use approve or deny from @ape/langchain).';
  }
  if (
    answer.toolCallId !== escalation.toolCallId ||
    answer.action !== escalation.action ||
    answer.argsHash !== escalation.argsHash ||
    answer.step !== escalation.step
  ) {
    return 'the approval was given for another call; it approves nothing.';
  }
  if (typeof answer.approved !== 'boolean' || typeof answer.approver !== 'string' || answer.approver === '') {
    return 'the answer names no approver or no decision.';
  }
  return undefined;
}
