import type { EscalationHandler, EscalationRequest, EscalationResult } from '@ape/core';
import { CallbackEscalation, ConsoleEscalation } from '@ape/escalation';
import type { DemoContext } from './session.js';

/** @internal The name the scripted approver answers with. */
export const APPROVER = 'demo-approver';

/** @internal A scripted approver: answers every escalation with `decide(request)`, as a trusted person would. */
export function scriptedApprover(
  decide: (request: EscalationRequest) => EscalationResult,
): EscalationHandler {
  return new CallbackEscalation({
    decide: (request) => decide(request),
    timeoutMs: 5_000,
    approver: APPROVER,
  });
}

/** @internal A trusted approver's answer. */
export function answer(approved: boolean, reason: string): EscalationResult {
  return { approved, approver: APPROVER, provenance: 'USER_TRUSTED', reason };
}

/** @internal A person at the terminal when the demo is interactive, else a scripted answer. */
export function humanOrScripted(context: DemoContext, approved: boolean, reason: string): EscalationHandler {
  return context.interactive ? new ConsoleEscalation() : scriptedApprover(() => answer(approved, reason));
}
