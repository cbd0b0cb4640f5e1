import { randomUUID } from 'node:crypto';
import type {
  Clock,
  EscalationHandler,
  EscalationRequest,
  EscalationResult,
  ProvenanceLabel,
} from '@ape/core';
import { ArgumentsError, deepFreeze, isProvenanceLabel, RuntimeStateError, systemClock } from '@ape/core';
import {
  abortedDenial,
  awaitAnswer,
  boundedText,
  checkApprover,
  checkTimeout,
  createResult,
  describeError,
  handlerDenial,
} from './answers.js';
import { summariseRequest } from './display.js';

/** An escalation waiting in a {@link QueueEscalation} for a host to approve or deny it. */
export interface PendingEscalation {
  /** A random id (a UUID) to pass to `approve` or `deny`. */
  readonly id: string;
  /** A deep-frozen copy of the request. Its text is untrusted: escape it before you display it. */
  readonly request: EscalationRequest;
  /** A one-line summary of the request, escaped and cut, safe to display or log. */
  readonly summary: string;
  /** When the request arrived, in milliseconds since the epoch, on the queue's clock. */
  readonly createdAt: number;
  /** When the request times out and is denied, in milliseconds since the epoch. */
  readonly expiresAt: number;
}

/** The answer a host gives through `approve` or `deny`. */
export interface QueueAnswer {
  /** Who answered: a user id the host authenticated. Required, non-empty. */
  readonly approver: string;
  /**
   * How far the answer can be trusted; default `USER_TRUSTED` (the host vouches a person answered).
   * Pass `EXTERNAL_UNTRUSTED` when the answer came from data: the runtime refuses such an approval.
   */
  readonly provenance?: ProvenanceLabel;
  /** Why; recorded in the audit log (escaped and cut to 300 characters). */
  readonly reason?: string;
}

/** What {@link QueueEscalation.subscribe} listeners receive. */
export type QueueEscalationEvent =
  | { readonly type: 'escalation.requested'; readonly escalation: PendingEscalation }
  | { readonly type: 'escalation.settled'; readonly id: string; readonly result: EscalationResult };

/** A listener of {@link QueueEscalation} events. */
export type QueueEscalationListener = (event: QueueEscalationEvent) => void;

/** Options of {@link QueueEscalation}. */
export interface QueueEscalationOptions {
  /** How long a request waits before it is denied, in milliseconds (whole, 1 .. 2147483647); default 300000. */
  readonly timeoutMs?: number;
  /**
   * The most requests that may wait at once (whole, at least 1); default 100. Beyond it new requests
   * are denied immediately, never approved: a flood of escalations cannot bury the real ones.
   */
  readonly maxPending?: number;
  /** The clock for `createdAt` and `expiresAt`; default the system clock. */
  readonly clock?: Clock;
}

interface QueueEntry {
  readonly escalation: PendingEscalation;
  readonly resolve: (result: EscalationResult) => void;
}

const HANDLER = 'QueueEscalation';

/**
 * Escalations wait in a queue that a host UI or API resolves asynchronously: list them with
 * `pending()`, learn of new ones with `subscribe()`, answer with `approve(id, ...)` or
 * `deny(id, ...)`.
 *
 * A request is denied when it is not answered within `timeoutMs` (approver `"timeout"`), when the
 * runtime's signal aborts (approver `"aborted"`), and immediately when `maxPending` requests already
 * wait (approver `"queue"`). Once settled, a request leaves the queue: answering it again, or
 * answering an id that never existed, throws `RuntimeStateError` (`RUNTIME_STATE`) so a host learns
 * that its answer did not count (for example, because it came after the timeout).
 * `requestApproval` always resolves, never rejects.
 */
export class QueueEscalation implements EscalationHandler {
  readonly #timeoutMs: number;
  readonly #maxPending: number;
  readonly #clock: Clock;
  readonly #entries = new Map<string, QueueEntry>();
  readonly #listeners = new Set<QueueEscalationListener>();

  /** @throws ArgumentsError (`ARGS_INVALID`) when `timeoutMs` or `maxPending` is malformed. */
  constructor(options: QueueEscalationOptions = {}) {
    this.#timeoutMs = checkTimeout(HANDLER, options.timeoutMs ?? 300_000);
    const maxPending = options.maxPending ?? 100;
    if (!Number.isInteger(maxPending) || maxPending < 1) {
      throw new ArgumentsError(`${HANDLER}: option "maxPending" must be a whole number of at least 1`, {
        field: 'maxPending',
        handler: HANDLER,
      });
    }
    this.#maxPending = maxPending;
    this.#clock = options.clock ?? systemClock;
  }

  /** Queues the request and resolves when a host answers it, or to a denial (see the class). */
  requestApproval(request: EscalationRequest, signal: AbortSignal): Promise<EscalationResult> {
    if (signal.aborted) return Promise.resolve(abortedDenial(HANDLER));
    if (this.#entries.size >= this.#maxPending) {
      return Promise.resolve(
        handlerDenial(HANDLER, `the queue is full (${this.#maxPending} requests pending); denied unasked`),
      );
    }
    let escalation: PendingEscalation;
    try {
      const createdAt = this.#clock.now();
      escalation = Object.freeze({
        id: randomUUID(),
        request: deepFreeze(structuredClone(request)) as EscalationRequest,
        summary: summariseRequest(request),
        createdAt,
        expiresAt: createdAt + this.#timeoutMs,
      });
    } catch (error) {
      return Promise.resolve(
        handlerDenial(HANDLER, `the request could not be queued: ${describeError(error)}`),
      );
    }
    const { id } = escalation;
    return awaitAnswer(
      HANDLER,
      this.#timeoutMs,
      signal,
      (inner) =>
        new Promise<EscalationResult>((resolve) => {
          this.#entries.set(id, { escalation, resolve });
          inner.addEventListener('abort', () => this.#entries.delete(id), { once: true });
          this.#emit({ type: 'escalation.requested', escalation });
        }),
    ).then((result) => {
      this.#entries.delete(id);
      this.#emit({ type: 'escalation.settled', id, result });
      return result;
    });
  }

  /** The requests waiting for an answer, oldest first. A new array each call. */
  pending(): readonly PendingEscalation[] {
    return Array.from(this.#entries.values(), (entry) => entry.escalation);
  }

  /**
   * Approves the waiting request `id`.
   * @throws RuntimeStateError (`RUNTIME_STATE`) when `id` is not waiting (unknown, or already settled).
   * @throws ArgumentsError (`ARGS_INVALID`) when `approver` is empty or `provenance` is not a label;
   *   the request then stays pending.
   */
  approve(id: string, answer: QueueAnswer): void {
    this.#settle(id, true, answer);
  }

  /**
   * Denies the waiting request `id`.
   * @throws RuntimeStateError (`RUNTIME_STATE`) when `id` is not waiting (unknown, or already settled).
   * @throws ArgumentsError (`ARGS_INVALID`) when `approver` is empty or `provenance` is not a label;
   *   the request then stays pending.
   */
  deny(id: string, answer: QueueAnswer): void {
    this.#settle(id, false, answer);
  }

  /**
   * Calls `listener` with every `escalation.requested` and `escalation.settled` event, synchronously;
   * a listener may answer from inside it. A listener that throws is ignored (the request stays
   * pending until answered or timed out). Returns a function that unsubscribes.
   */
  subscribe(listener: QueueEscalationListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  #settle(id: string, approved: boolean, answer: QueueAnswer): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) {
      throw new RuntimeStateError(
        `${HANDLER}: no escalation "${boundedText(String(id))}" is waiting (unknown id, or already approved, denied or timed out)`,
        { id: String(id), handler: HANDLER },
      );
    }
    const field = approved ? 'approve' : 'deny';
    const approver = checkApprover(HANDLER, `${field}.approver`, answer?.approver);
    const provenance = answer.provenance ?? 'USER_TRUSTED';
    if (!isProvenanceLabel(provenance)) {
      throw new ArgumentsError(
        `${HANDLER}: "${field}.provenance" must be SYSTEM_TRUSTED, USER_TRUSTED or EXTERNAL_UNTRUSTED`,
        { field: `${field}.provenance`, handler: HANDLER },
      );
    }
    if (answer.reason !== undefined && typeof answer.reason !== 'string') {
      throw new ArgumentsError(`${HANDLER}: "${field}.reason" must be a string`, {
        field: `${field}.reason`,
        handler: HANDLER,
      });
    }
    this.#entries.delete(id);
    entry.resolve(
      createResult(
        approved,
        approver,
        provenance,
        answer.reason === undefined ? undefined : boundedText(answer.reason),
      ),
    );
  }

  #emit(event: QueueEscalationEvent): void {
    for (const listener of this.#listeners) {
      try {
        const returned: unknown = listener(event);
        if (returned instanceof Promise) returned.catch(ignore);
      } catch {
        // A broken listener must not break the queue; the request still settles by answer or timeout.
      }
    }
  }
}

function ignore(): void {}
