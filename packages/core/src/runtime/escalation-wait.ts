import { EscalationDeniedError, messageOf, ProvenanceError } from '../errors.js';
import { isAtLeast } from '../labels.js';
import type { EscalationHandler, EscalationRequest, EscalationResult } from '../ports/escalation-handler.js';
import type { PolicyDecision } from '../types.js';
import type { PreparedCall } from './prepared-call.js';
import { type Session, TRUSTED_ENOUGH } from './session.js';

/** @internal What came back from the escalation handler, or why nothing usable did. */
export interface EscalationAnswer {
  readonly answer: EscalationResult | undefined;
  /** `timeout`, or a description of the handler's failure; `undefined` when it answered. */
  readonly failure: string | undefined;
}

/**
 * @internal Asks `handler`, bounded by `timeoutMs` (real time). The abort controller is handed to
 * `onStart` so that terminating the session stops the wait. Never throws.
 */
export async function waitForAnswer(
  handler: EscalationHandler,
  request: EscalationRequest,
  timeoutMs: number,
  onStart: (controller: AbortController | undefined) => void,
): Promise<EscalationAnswer> {
  const controller = new AbortController();
  onStart(controller);
  let answer: EscalationResult | undefined;
  let failure: string | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const stop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        failure = 'timeout';
        controller.abort();
      }, timeoutMs);
      timer.unref?.();
      controller.signal.addEventListener('abort', () => reject(new Error('escalation aborted')), {
        once: true,
      });
    });
    const asked = (async () => handler.requestApproval(request, controller.signal))();
    answer = await Promise.race([asked, stop]);
  } catch (error) {
    failure ??= `the escalation handler failed: ${messageOf(error)}`;
  } finally {
    clearTimeout(timer);
    onStart(undefined);
  }
  return { answer, failure };
}

/**
 * @internal The escalation stage: moves to ESCALATION_REQUIRED, asks the human, and either returns
 * (approved by a trusted answer; back to EXECUTING) or terminates the session and throws
 * EscalationDeniedError (`ESCALATION_DENIED`) — for a denial, a timeout, a failing handler, an
 * untrusted approval, or a session that ended while waiting.
 */
export async function escalate(
  session: Session,
  call: PreparedCall,
  decision: PolicyDecision,
  epoch: number,
): Promise<void> {
  await Promise.all([
    session.move('REQUIRE_ESCALATION'),
    session.record('escalation.requested', {
      stepIndex: call.index,
      action: call.action,
      rules: decision.rules,
      reason: decision.reason,
      provenance: call.provenance,
      argsDigest: call.argsHash,
    }),
  ]);
  session.checkEpoch(epoch, call.index);
  const { config } = session;
  const request: EscalationRequest = Object.freeze({
    tenant: config.tenant,
    session: config.sessionId,
    stepIndex: call.index,
    action: call.action,
    args: call.args,
    provenance: call.provenance,
    ...(call.argLabels === undefined ? {} : { argLabels: call.argLabels }),
    decision,
  });
  const { answer, failure } = await waitForAnswer(
    config.escalation,
    request,
    config.escalationTimeoutMs,
    (controller) => {
      session.escalationAbort = controller;
    },
  );
  if (session.epoch !== epoch || session.state === 'TERMINATED') {
    throw new EscalationDeniedError(
      `Step ${call.index} ("${call.action}") was not approved: the session ended while waiting for approval.`,
      { step: call.index, action: call.action, reason: 'terminated' },
    );
  }
  const approver =
    typeof answer?.approver === 'string' ? answer.approver : failure === 'timeout' ? 'timeout' : 'unknown';
  if (failure === undefined && answer?.approved === true && isAtLeast(answer.provenance, TRUSTED_ENOUGH)) {
    await Promise.all([
      session.record('escalation.approved', {
        stepIndex: call.index,
        action: call.action,
        approver,
        provenance: answer.provenance,
        ...(typeof answer.reason === 'string' ? { reason: answer.reason } : {}),
      }),
      session.move('APPROVE_ESCALATION'),
    ]);
    return;
  }
  throw await refuse(session, call, answer, failure, approver);
}

/** Terminates the session after a refused escalation and returns the error to throw. */
async function refuse(
  session: Session,
  call: PreparedCall,
  answer: EscalationResult | undefined,
  failure: string | undefined,
  approver: string,
): Promise<EscalationDeniedError> {
  const why =
    failure ??
    (answer?.approved === true
      ? `the approval is labelled ${String(answer.provenance)}, and untrusted data never grants authority`
      : `the approver "${approver}" denied it${typeof answer?.reason === 'string' ? ` (${answer.reason})` : ''}`);
  const untrusted = failure === undefined && answer?.approved === true;
  const from = session.enterTerminated('DENY_ESCALATION', `escalation of step ${call.index} denied`);
  // The session is over whatever happens below; an audit failure here must not hide the denial.
  const note = (record: Promise<void>): Promise<void> => record.catch(() => undefined);
  await note(
    session.record('escalation.denied', {
      stepIndex: call.index,
      action: call.action,
      approver,
      reason: why,
      ...(untrusted ? { untrustedApproval: true } : {}),
    }),
  );
  await note(session.record('state.changed', { from, to: 'TERMINATED', event: 'DENY_ESCALATION' }));
  let count = 0;
  try {
    count = await session.config.authority.revokeSession(
      session.config.tenant,
      session.config.sessionId,
      'escalation_denied',
    );
  } catch {
    count = -1;
  }
  await note(session.record('token.revoked', { reason: 'escalation_denied', count }));
  await note(session.record('session.terminated', { reason: 'escalation_denied', from }));
  return new EscalationDeniedError(
    `Step ${call.index} ("${call.action}") was not approved: ${why}. The session is terminated.`,
    {
      step: call.index,
      action: call.action,
      approver,
      reason:
        failure === 'timeout'
          ? 'timeout'
          : untrusted
            ? 'untrusted_approval'
            : failure === undefined
              ? 'denied'
              : 'handler_failed',
    },
    untrusted
      ? { cause: new ProvenanceError('An escalation approval must be USER_TRUSTED or SYSTEM_TRUSTED.') }
      : undefined,
  );
}
