import type {
  ApprovalBinding,
  ApprovalQueue,
  ApprovalSettlement,
  Clock,
  EscalationHandler,
  EscalationRequest,
  EscalationResult,
} from '@ape/core';
import { ArgumentsError, findApprovalBindingMismatch, hashCanonical, systemClock } from '@ape/core';
import {
  abortedDenial,
  awaitAnswer,
  boundedText,
  checkTimeout,
  createResult,
  handlerDenial,
  MAX_TIMEOUT_MS,
  timeoutDenial,
} from './answers.js';

/** Options of {@link ApprovalQueueEscalation}. */
export interface ApprovalQueueEscalationOptions {
  /** Where requests are published and answered: in memory for one process, `RedisApprovalQueue` for a fleet. */
  readonly queue: ApprovalQueue;
  /** How long a request waits before it is denied, in milliseconds (whole, 1 .. 2147483647); default 300000. */
  readonly timeoutMs?: number;
  /** The clock for the request's deadline; default the system clock. */
  readonly clock?: Clock;
  /**
   * Called with the id of each published request, so the host can tell approvers where to look
   * (for example `ape approve <id>`). A throw is ignored.
   */
  readonly onPublished?: (id: string, request: EscalationRequest) => void;
}

const HANDLER = 'ApprovalQueueEscalation';

/**
 * How long past the request's own deadline the handler still waits for the queue to record the
 * timeout before it denies on its own (a queue that hangs cannot hold the runtime).
 */
const SETTLE_GRACE_MS = 2_000;

/**
 * Publishes each escalation to an {@link ApprovalQueue} and waits for its settlement, so an approver
 * can answer from another process (`ape approve` / `ape deny`, a console) and the answer resumes
 * this agent. The request is bound to the exact call: tenant, session, step index, action and the
 * sha256 of the canonical arguments.
 *
 * Fails closed: an approval counts only when it is bound to this very call, names an approver and is
 * not `EXTERNAL_UNTRUSTED` (data never approves); a timeout (approver `"timeout"`), a cancellation, an
 * abort of the runtime's signal (`"aborted"`) or a failing queue (`"approval-queue"`) is a denial.
 * `requestApproval` always resolves, never rejects.
 */
export class ApprovalQueueEscalation implements EscalationHandler {
  readonly #queue: ApprovalQueue;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  readonly #onPublished: ((id: string, request: EscalationRequest) => void) | undefined;

  /** @throws ArgumentsError (`ARGS_INVALID`) when `queue`, `timeoutMs` or `onPublished` is malformed. */
  constructor(options: ApprovalQueueEscalationOptions) {
    const queue = options?.queue;
    if (typeof queue?.publish !== 'function' || typeof queue.wait !== 'function') {
      throw new ArgumentsError(`${HANDLER}: option "queue" must be an ApprovalQueue (publish, wait, ...)`, {
        field: 'queue',
        handler: HANDLER,
      });
    }
    if (options.onPublished !== undefined && typeof options.onPublished !== 'function') {
      throw new ArgumentsError(`${HANDLER}: option "onPublished" must be a function`, {
        field: 'onPublished',
        handler: HANDLER,
      });
    }
    this.#queue = queue;
    this.#timeoutMs = checkTimeout(HANDLER, options.timeoutMs ?? 300_000);
    this.#clock = options.clock ?? systemClock;
    this.#onPublished = options.onPublished;
  }

  /** Publishes the request and resolves to the settled answer, or to a denial (see the class). */
  requestApproval(request: EscalationRequest, signal: AbortSignal): Promise<EscalationResult> {
    const limit = Math.min(this.#timeoutMs + SETTLE_GRACE_MS, MAX_TIMEOUT_MS);
    return awaitAnswer(HANDLER, limit, signal, async (inner) => {
      const binding: ApprovalBinding = Object.freeze({
        tenant: request.tenant,
        session: request.session,
        stepIndex: request.stepIndex,
        action: request.action,
        argsHash: hashCanonical(request.args),
      });
      const id = await this.#queue.publish({
        ...binding,
        args: request.args,
        provenance: request.provenance,
        ...(request.argLabels === undefined ? {} : { argLabels: request.argLabels }),
        decision: request.decision,
        expiresAt: this.#clock.now() + this.#timeoutMs,
      });
      try {
        this.#onPublished?.(id, request);
      } catch {
        // A broken notification must not change the outcome: the request is already published.
      }
      return this.#toResult(await this.#queue.wait(id, inner), binding, inner);
    });
  }

  #toResult(settlement: ApprovalSettlement, binding: ApprovalBinding, signal: AbortSignal): EscalationResult {
    switch (settlement.state) {
      case 'timeout':
        return timeoutDenial(HANDLER, this.#timeoutMs);
      case 'cancelled':
        return signal.aborted
          ? abortedDenial(HANDLER)
          : handlerDenial(HANDLER, `the request was cancelled: ${boundedText(settlement.reason)}`);
      case 'answered': {
        const field = findApprovalBindingMismatch(binding, settlement.binding);
        if (field !== undefined) {
          return handlerDenial(HANDLER, `the answer was bound to another call (${field} differs); refused`);
        }
        if (typeof settlement.approver !== 'string' || settlement.approver.trim() === '') {
          return handlerDenial(HANDLER, 'an answer without an approver identity was refused');
        }
        const reason = settlement.reason === undefined ? undefined : boundedText(settlement.reason);
        if (settlement.approved && settlement.provenance === 'EXTERNAL_UNTRUSTED') {
          return createResult(
            false,
            settlement.approver,
            settlement.provenance,
            `${HANDLER}: an EXTERNAL_UNTRUSTED approval was refused (data never approves)`,
          );
        }
        return createResult(settlement.approved === true, settlement.approver, settlement.provenance, reason);
      }
      default:
        return handlerDenial(HANDLER, 'the queue returned an unknown settlement');
    }
  }
}
