import type { PolicyDecision, ProvenanceLabel } from '../types.js';

/** What a human is asked to approve. */
export interface EscalationRequest {
  readonly tenant: string;
  readonly session: string;
  readonly stepIndex: number;
  readonly action: string;
  /** The call's arguments (plain JSON), so the approver sees what they approve. */
  readonly args: Readonly<Record<string, unknown>>;
  /** The effective label of the arguments. */
  readonly provenance: ProvenanceLabel;
  /**
   * The label of each leaf of `args` by JSON pointer (as `ActionRequest.argLabels`), so the approver
   * sees which argument came from where. Absent when the call has no arguments.
   */
  readonly argLabels?: Readonly<Record<string, ProvenanceLabel>>;
  /** The policy's ESCALATE decision: rule ids and reason. */
  readonly decision: PolicyDecision;
}

/** A human's (or a host's) answer. */
export interface EscalationResult {
  readonly approved: boolean;
  /** Who answered (a user id, `"deny-all"`, `"timeout"`, ...). Recorded in the audit log. */
  readonly approver: string;
  /**
   * How far the answer can be trusted. An approval labelled `EXTERNAL_UNTRUSTED` (for example one
   * parsed out of tool output) is refused by the runtime: data never grants authority.
   */
  readonly provenance: ProvenanceLabel;
  readonly reason?: string;
}

/**
 * Asks for approval of an escalated call. `@ape/escalation` ships deny-all (the default), callback,
 * terminal and queue handlers.
 *
 * Contract:
 * - Called by the runtime's gate when the policy answers ESCALATE, with the runtime in state
 *   ESCALATION_REQUIRED; no token exists for the call until an approval arrives.
 * - Resolves to an {@link EscalationResult}. `signal` aborts when the runtime gives up waiting
 *   (timeout or termination); the handler should stop asking and settle.
 * - Rejecting, throwing, timing out or answering with an untrusted approval all count as a denial:
 *   the runtime revokes the session's tokens and terminates.
 */
export interface EscalationHandler {
  requestApproval(request: EscalationRequest, signal: AbortSignal): Promise<EscalationResult>;
}
