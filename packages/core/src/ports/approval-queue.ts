import type { PolicyDecision, ProvenanceLabel } from '../types.js';

/**
 * The exact call an approval is about. An answer carries the binding its approver saw; a queue
 * refuses an answer whose binding differs from the request's in any field, so an approval can
 * never be moved to another call.
 */
export interface ApprovalBinding {
  readonly tenant: string;
  readonly session: string;
  readonly stepIndex: number;
  readonly action: string;
  /** sha256 of the canonical JSON of the call's arguments (`hashCanonical(args)`). */
  readonly argsHash: string;
}

/** The fields of an {@link ApprovalBinding}, in the order a queue compares them. */
export const APPROVAL_BINDING_FIELDS = Object.freeze([
  'tenant',
  'session',
  'stepIndex',
  'action',
  'argsHash',
] as const satisfies readonly (keyof ApprovalBinding)[]);

/** What the waiting process publishes: the call, what the approver must see, and a deadline. */
export interface ApprovalPublication extends ApprovalBinding {
  /** The call's arguments (plain JSON). Untrusted text: an approver's screen must escape it. */
  readonly args: Readonly<Record<string, unknown>>;
  /** The effective label of the arguments. */
  readonly provenance: ProvenanceLabel;
  /**
   * Each argument leaf's label by RFC 6901 JSON pointer (the escalation request's `argLabels`), so
   * that an approver sees which argument came from where. Absent when the call had no arguments.
   */
  readonly argLabels?: Readonly<Record<string, ProvenanceLabel>>;
  /** The policy's ESCALATE decision. */
  readonly decision: PolicyDecision;
  /** When the request times out (denied), in milliseconds since the epoch on the queue's clock. */
  readonly expiresAt: number;
}

/** A published request as every process sees it. */
export interface PendingApproval extends ApprovalPublication {
  /** Chosen by the queue at publication: unique and unguessable. */
  readonly id: string;
  /** When it was published, in milliseconds since the epoch on the queue's clock. */
  readonly createdAt: number;
}

/** An approver's answer to one request. */
export interface ApprovalAnswer {
  readonly approved: boolean;
  /** Who answered (an authenticated user id). Non-empty. */
  readonly approver: string;
  /**
   * How far the answer can be trusted. An approval labelled `EXTERNAL_UNTRUSTED` is recorded but
   * never approves: the escalation handler and the runtime turn it into a denial.
   */
  readonly provenance: ProvenanceLabel;
  readonly reason?: string;
  /** The call the approver saw; must equal the request's binding field by field. */
  readonly binding: ApprovalBinding;
}

/** How a request ended: exactly one of these, decided once and seen identically by every process. */
export type ApprovalSettlement =
  | {
      readonly state: 'answered';
      readonly id: string;
      readonly approved: boolean;
      readonly approver: string;
      readonly provenance: ProvenanceLabel;
      readonly reason?: string;
      readonly binding: ApprovalBinding;
      /** When it was settled, on the settling process's clock. */
      readonly settledAt: number;
    }
  | { readonly state: 'timeout'; readonly id: string; readonly settledAt: number }
  | { readonly state: 'cancelled'; readonly id: string; readonly reason: string; readonly settledAt: number };

/** A request and, once it has ended, how. */
export interface ApprovalRecord {
  readonly request: PendingApproval;
  readonly settlement?: ApprovalSettlement;
}

/** What {@link ApprovalQueue.answer} and {@link ApprovalQueue.cancel} report. */
export type ApprovalSettleResult =
  | { readonly ok: true; readonly settlement: ApprovalSettlement }
  | {
      readonly ok: false;
      /**
       * `unknown`: no such request (never published, or forgotten after its retention);
       * `settled`: it already ended (`settlement` says how); `binding_mismatch`: the answer's binding
       * differs from the request's (`field` names the first that differs).
       */
      readonly reason: 'unknown' | 'settled' | 'binding_mismatch';
      readonly settlement?: ApprovalSettlement;
      readonly field?: keyof ApprovalBinding;
    };

/** Which pending requests {@link ApprovalQueue.list} returns. */
export interface ApprovalListFilter {
  /** Only this tenant's requests; absent: every tenant's. */
  readonly tenant?: string;
}

/**
 * Escalation requests and their answers across processes: the process that runs the call publishes
 * a request and waits; an approver answers from any process (`ape approve`, a console, an API).
 * The in-memory queue of `@ape/core` serves one process; `@ape/redis` shares one across a fleet.
 *
 * Contract:
 * - Called by an escalation handler (`publish`, `wait`, `cancel`) and by approver tools (`list`,
 *   `get`, `answer`, `cancel`); never by policies or tools.
 * - `publish` stores a frozen copy and resolves to a fresh, unguessable id once every process can
 *   see the request.
 * - A request ends exactly once: the first of an answer, a timeout (`expiresAt` reached) and a
 *   cancellation wins atomically, also across processes; every later `answer` or `cancel` resolves to
 *   `{ ok: false, reason: 'settled' }` and changes nothing. An answer whose binding differs from the
 *   request's is refused (`binding_mismatch`) and leaves the request pending.
 * - `wait` resolves exactly once, to the winning settlement: it settles the request as `timeout`
 *   when `expiresAt` passes, and as `cancelled` when `signal` aborts (unless an answer won first).
 * - A settlement is returned as stored: the caller (the escalation handler) still refuses an
 *   approval that is untrusted, lacks an approver, or whose binding differs from its own call.
 * - Every method either completes or throws/rejects (`StoreUnavailableError` for a shared store that
 *   fails or exceeds its time bound); a failing `wait` is a denial. A queue never reports an answer
 *   that was not given.
 * - Requests and settlements are temporary: a queue forgets them after a retention period.
 */
export interface ApprovalQueue {
  publish(request: ApprovalPublication): Promise<string>;
  /** The request `id` and its settlement if it ended; `undefined` when unknown or forgotten. */
  get(id: string): Promise<ApprovalRecord | undefined>;
  /** Pending (not yet settled, not yet expired) requests, oldest first. */
  list(filter?: ApprovalListFilter): Promise<readonly PendingApproval[]>;
  answer(id: string, answer: ApprovalAnswer): Promise<ApprovalSettleResult>;
  cancel(id: string, reason: string): Promise<ApprovalSettleResult>;
  wait(id: string, signal: AbortSignal): Promise<ApprovalSettlement>;
}
