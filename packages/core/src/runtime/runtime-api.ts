import type { DeepReadonly } from '../deep-freeze.js';
import type { Intent } from '../intent.js';
import type { Labeled } from '../labeled.js';
import type { Plan } from '../plan.js';
import type { PolicyEvaluator } from '../ports/policy-evaluator.js';
import type { RuntimeState } from '../state-machine.js';
import type { AuthorityToken, ProvenanceLabel } from '../types.js';
import type { EnforcementMode } from './config.js';
import type { SessionMode } from './session.js';
import type { ToolLike } from './tool.js';

/** The declared trust of a document handed to the runtime (intent, plan). */
export interface ProvenanceOptions {
  readonly provenance: ProvenanceLabel;
}

/** Options of {@link AgentRuntime.executeStep} and {@link AgentRuntime.authorize}. */
export interface StepCallOptions {
  /** The call's arguments; may contain labelled values anywhere. Default `{}`. */
  readonly args?: Readonly<Record<string, unknown>>;
  /** The label of plain values in `args`; default: the runtime's `defaultProvenance`. */
  readonly provenance?: ProvenanceLabel;
}

/** What {@link AgentRuntime.authorizeCall} returns. */
export interface CallAuthorization {
  readonly token: AuthorityToken;
  /** The index of the proposed step in the session's chain; `gate.execute` takes it as `index`. */
  readonly index: number;
}

/** Options of {@link Gate.execute}. */
export interface GateCallOptions {
  /** The step the token was authorised for: the plan step, or the index `authorizeCall` returned. */
  readonly index: number;
  /** The call's arguments: the same (plain) values as at `authorize`. Default `{}`. */
  readonly args?: Readonly<Record<string, unknown>>;
}

/** The low-level gate: runs a tool with a token obtained from {@link AgentRuntime.authorize}. */
export interface Gate {
  /**
   * Checks state, step order and the tool's argument schema, consumes `token` for exactly this call,
   * runs the tool and returns its labelled output. Same errors as {@link AgentRuntime.executeStep},
   * plus `UnauthorizedActionError` when no authorisation is outstanding for the step, when `token`
   * is not the step's latest authorisation (`details.field: 'token'`: authorising a step again
   * voids its older token), or when the args are less trusted than at `authorize`
   * (`details.field: 'provenance'`). Works in both modes.
   */
  execute<Output>(
    token: AuthorityToken,
    tool: ToolLike<Output>,
    options: GateCallOptions,
  ): Promise<Labeled<Output>>;
}

/** One agent session: intent, plan and the enforcement gate. Create with {@link createRuntime}. */
export interface AgentRuntime {
  readonly tenant: string;
  readonly sessionId: string;
  readonly mode: EnforcementMode;
  /** The current state of the session's state machine. */
  readonly state: RuntimeState;
  /** sha256 of the intent in force, or `undefined` before `setIntent`. */
  readonly intentVersion: string | undefined;
  /**
   * What tokens bind to: in plan mode the sha256 of the approved plan (`undefined` when none is
   * approved); in calls mode the chain's current head (head₀ before the first call).
   */
  readonly planHash: string | undefined;
  /** The intent in force (deep-frozen copy). */
  readonly intent: DeepReadonly<Intent> | undefined;
  /** The approved plan (deep-frozen copy); in calls mode, the steps proposed so far (frozen). */
  readonly plan: DeepReadonly<Plan> | undefined;
  /**
   * `plan` after `submitPlan`, `calls` after the first `call`/`authorizeCall`, `undefined` before
   * either. A session runs in one mode: the other mode's operations throw RuntimeStateError.
   */
  readonly sessionMode: SessionMode | undefined;
  /** Plan mode: the index of the only step that may run next. Calls mode: the index the next call gets. */
  readonly nextStepIndex: number;
  /** The digest of the policy in force. */
  readonly policyDigest: string;
  /** The low-level gate for tokens obtained with {@link AgentRuntime.authorize}. */
  readonly gate: Gate;
  /**
   * Sets the session's intent (once; use `updateIntent` afterwards).
   * @throws ProvenanceError (`PROVENANCE`) unless `provenance` is USER_TRUSTED or SYSTEM_TRUSTED.
   * @throws RuntimeStateError (`RUNTIME_STATE`) outside INITIALIZED.
   * @throws IntentError (`INTENT_INVALID`) for an invalid intent.
   */
  setIntent(intent: unknown, options: ProvenanceOptions): Promise<void>;
  /**
   * Replaces the intent: drops the plan, revokes the session's tokens and returns to INTENT_SET.
   * Same errors as `setIntent`; RuntimeStateError also while a step is in progress.
   */
  updateIntent(intent: unknown, options: ProvenanceOptions): Promise<void>;
  /**
   * Approves a plan after checking it against the intent and the policy (a DENY step rejects the
   * whole plan, naming it). Replacing a plan revokes the session's tokens and restarts at step 0.
   * @throws ProvenanceError (`PROVENANCE`), RuntimeStateError (`RUNTIME_STATE`), PlanError (`PLAN_INVALID`, `details.step`).
   */
  submitPlan(plan: unknown, options: ProvenanceOptions): Promise<void>;
  /**
   * The enforcement gate: runs step `index` of the plan with `tool` and returns its output labelled
   * (`tool.outputLabel ?? 'EXTERNAL_UNTRUSTED'`, source `tool:<action>`). See docs/runtime.md for the
   * order of checks and every error.
   */
  executeStep<Output>(
    index: number,
    tool: ToolLike<Output>,
    options?: StepCallOptions,
  ): Promise<Labeled<Output>>;
  /**
   * Runs every check of `executeStep` up to and including the token, without running a tool; pass
   * the token to `gate.execute`. The token stays bound to this step, these args, intent and plan.
   */
  authorize(index: number, options?: StepCallOptions): Promise<AuthorityToken>;
  /**
   * Calls mode (DESIGN §9): proposes one call of `actionId`, appends it to the session's chain
   * (`plan.extended`), and runs it through the same gate as `executeStep` with the call's OWN
   * provenance: intent, policy, escalation, usage limits, a token bound to the new chain head and
   * index, consume, run, audit. Allowed after `setIntent` in a session without a plan; the first
   * call puts the session in calls mode. A DENY throws and does not terminate (the next call may
   * proceed); a denied escalation terminates. See docs/runtime.md.
   * @throws RuntimeStateError (`RUNTIME_STATE`) in plan mode, before an intent, after termination or while a call is in flight.
   * @throws ActionError (`ACTION_INVALID`) for a malformed action id or a tool whose id is not `actionId`.
   * @throws ArgumentsError, PolicyDenyError, EscalationDeniedError, AuditError: as `executeStep`.
   */
  call<Output>(actionId: string, tool: ToolLike<Output>, options?: StepCallOptions): Promise<Labeled<Output>>;
  /**
   * Calls mode: every check of `call` up to and including the token, without running a tool. Returns
   * the token and the index of the appended step; pass both to `gate.execute` with the same args.
   * Only the latest authorisation of a session is outstanding: authorising again voids older tokens.
   */
  authorizeCall(actionId: string, options?: StepCallOptions): Promise<CallAuthorization>;
  /**
   * Swaps the policy. Revokes every token of the session (reason `policy_reloaded`); later calls are
   * decided by the new policy. @throws RuntimeStateError after termination or while an escalation is pending.
   */
  reloadPolicy(policy: PolicyEvaluator): Promise<void>;
  /**
   * Ends the session: aborts a pending escalation, revokes every token of the session and flushes
   * the audit sink. Idempotent. @throws AuditError (`AUDIT_FAILURE`) when the final events cannot be recorded.
   */
  terminate(reason?: string): Promise<void>;
}
