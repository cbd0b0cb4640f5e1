import type { EscalationHandler, EscalationRequest, EscalationResult } from '../ports/escalation-handler.js';

/** One scripted answer: a result, a failure to throw, or `'hang'` (settles only when aborted). */
export type ScriptedAnswer = EscalationResult | { readonly throws: unknown } | 'hang';

/** An {@link EscalationHandler} test double that answers from a script and records the requests. */
export interface ScriptedEscalationHandler extends EscalationHandler {
  readonly requests: readonly EscalationRequest[];
  /** How many requests saw their `signal` abort. */
  readonly aborted: number;
}

const EXHAUSTED: EscalationResult = Object.freeze({
  approved: false,
  approver: 'script-exhausted',
  provenance: 'SYSTEM_TRUSTED',
});

/** What every request whose signal aborted gets, as the escalation contract asks. */
const ABORTED: EscalationResult = Object.freeze({
  approved: false,
  approver: 'script-aborted',
  provenance: 'SYSTEM_TRUSTED',
  reason: 'the runtime stopped waiting for the answer',
});

/**
 * Answers the n-th request with the n-th scripted answer; once the script is used up, denies.
 * `'hang'` never answers: it settles with a denial when the runtime aborts the request (timeout or
 * termination). A request whose signal is already aborted is denied without using the script.
 */
export function createScriptedEscalationHandler(
  script: readonly ScriptedAnswer[],
): ScriptedEscalationHandler {
  const requests: EscalationRequest[] = [];
  let aborted = 0;
  return {
    get requests(): readonly EscalationRequest[] {
      return requests;
    },
    get aborted(): number {
      return aborted;
    },
    async requestApproval(request: EscalationRequest, signal: AbortSignal): Promise<EscalationResult> {
      if (signal.aborted) {
        aborted++;
        return ABORTED;
      }
      const answer = script[requests.length] ?? EXHAUSTED;
      requests.push(request);
      if (answer === 'hang') {
        return new Promise<EscalationResult>((resolve) => {
          signal.addEventListener(
            'abort',
            () => {
              aborted++;
              resolve(ABORTED);
            },
            { once: true },
          );
        });
      }
      if ('throws' in answer) throw answer.throws;
      return answer;
    },
  };
}
