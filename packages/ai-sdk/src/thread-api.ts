import type {
  AdapterThread,
  HumanAnswer,
  PendingApprovalView,
  WrapToolOptions,
  WrapToolsOptions,
} from '@ape/core/adapter';
import type { Tool, ToolApprovalResponse, ToolSet } from 'ai';

/** The approver recorded when the adapter itself refuses an approval that does not match its call. */
export const ADAPTER_APPROVER = 'ape-ai-sdk';

export { MAX_PENDING_APPROVALS } from '@ape/core/adapter';

/** A tool approval request as the SDK reports it (`result.content`, a stream part or a message part with its call). */
export interface ApprovalRequestLike {
  readonly approvalId: string;
  readonly toolCall: { readonly toolCallId: string; readonly toolName: string; readonly input: unknown };
}

/** A human's answer to an escalated call: who answered (the approver recorded) and why. */
export interface ApprovalAnswer extends HumanAnswer {}

/** An escalation that waits for a human's answer ({@link ApeThread.approve} or {@link ApeThread.deny} answers it). */
export interface PendingApproval extends PendingApprovalView {
  readonly toolCallId: string;
}

export type { WrapToolOptions, WrapToolsOptions };

/**
 * One conversation (thread): one APE session at a time, in the lineage named by `lineage`. Its
 * members besides the framework's are those of every adapter's thread (`AdapterThread` of
 * `@ape/core/adapter`): `lineage`, `sessionId`, `tainted`, `pendingApprovals()` and `end()`.
 */
export interface ApeThread extends AdapterThread<PendingApproval> {
  /**
   * Wraps a tool set: every `execute` goes through the APE gate, and a call the policy escalates is
   * announced as an SDK tool approval request. Tool names are APE action ids.
   * @throws ConfigurationError (`CONFIG_INVALID`) for a tool without `execute` or a malformed output label;
   *   ActionError (`ACTION_INVALID`) for a name that is not an action id.
   */
  tools<TOOLS extends ToolSet>(tools: TOOLS, options?: WrapToolsOptions): TOOLS;
  /** Wraps one tool under the action id `name`. Same errors as {@link tools}. */
  tool<TOOL extends Tool>(name: string, tool: TOOL, options?: WrapToolOptions): TOOL;
  /**
   * Approves an escalated call as `answer.approver` and returns the SDK part to append (in a `tool`
   * message) before the next run. The approval is bound to that call: its id, action and arguments.
   * @throws UnauthorizedActionError (`UNAUTHORIZED_ACTION`) when no pending escalation matches the request.
   */
  approve(request: ApprovalRequestLike, answer: ApprovalAnswer): ToolApprovalResponse;
  /**
   * Denies an escalated call as `answer.approver`: the gate records the denial (which ends the APE
   * session; the next call starts a new one in the same lineage) and the returned SDK part tells
   * the model. Same errors as {@link approve}.
   */
  deny(request: ApprovalRequestLike, answer: ApprovalAnswer): Promise<ToolApprovalResponse>;
}
