import type { EscalationHandler, EscalationRequest, EscalationResult } from '@ape/core';
import { ArgumentsError } from '@ape/core';
import { awaitAnswer, checkApprover, checkTimeout, normaliseAnswer } from './answers.js';

/**
 * What a host decision function may answer: a boolean (see {@link CallbackEscalationOptions.approver})
 * or a full {@link EscalationResult}, directly or as a promise.
 */
export type CallbackAnswer = EscalationResult | boolean;

/** The host function a {@link CallbackEscalation} asks. */
export type EscalationDecider = (
  request: EscalationRequest,
  signal: AbortSignal,
) => CallbackAnswer | Promise<CallbackAnswer>;

/** Options of {@link CallbackEscalation}. */
export interface CallbackEscalationOptions {
  /**
   * Decides an escalation. `signal` aborts when the wait ends (timeout, or the runtime gave up):
   * stop asking then. Throwing or rejecting is a denial.
   */
  readonly decide: EscalationDecider;
  /** How long to wait for `decide`, in milliseconds (whole, 1 .. 2147483647); default 60000. */
  readonly timeoutMs?: number;
  /**
   * The approver recorded for a boolean answer, and for a denial that names nobody; default
   * `"callback"`.
   */
  readonly approver?: string;
}

const HANDLER = 'CallbackEscalation';

/**
 * Asks a host function. The answer is normalised and fails closed:
 * - `true`/`false` is recorded as an answer of the configured `approver` with provenance
 *   `USER_TRUSTED` (the host vouches that a person decided; answer a full result with
 *   `EXTERNAL_UNTRUSTED` when the decision came from data, such as a model's output);
 * - a result object is copied; only `approved === true` approves; an unknown or missing provenance
 *   becomes `EXTERNAL_UNTRUSTED` (the runtime refuses such an approval); an approval without an
 *   approver identity becomes a denial;
 * - no answer within `timeoutMs` is a denial by `"timeout"`; an abort of the runtime's signal is a
 *   denial by `"aborted"`; a throw or rejection is a denial whose reason names the error message
 *   (never its stack).
 * `requestApproval` always resolves, never rejects.
 */
export class CallbackEscalation implements EscalationHandler {
  readonly #decide: EscalationDecider;
  readonly #timeoutMs: number;
  readonly #approver: string;

  /** @throws ArgumentsError (`ARGS_INVALID`) when `decide`, `timeoutMs` or `approver` is malformed. */
  constructor(options: CallbackEscalationOptions) {
    if (typeof options?.decide !== 'function') {
      throw new ArgumentsError(`${HANDLER}: option "decide" must be a function`, {
        field: 'decide',
        handler: HANDLER,
      });
    }
    this.#decide = options.decide;
    this.#timeoutMs = checkTimeout(HANDLER, options.timeoutMs ?? 60_000);
    this.#approver = checkApprover(HANDLER, 'approver', options.approver ?? 'callback');
  }

  /** Asks `decide` and resolves to its normalised answer, or to a denial (see the class). */
  requestApproval(request: EscalationRequest, signal: AbortSignal): Promise<EscalationResult> {
    return awaitAnswer(HANDLER, this.#timeoutMs, signal, async (inner) =>
      normaliseAnswer(HANDLER, this.#approver, await this.#decide(request, inner)),
    );
  }
}
