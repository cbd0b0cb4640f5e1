import { randomUUID } from 'node:crypto';
import { hashCanonical } from '../canonical-json.js';
import { type DeepReadonly, deepFreeze } from '../deep-freeze.js';
import {
  ActionError,
  ApeError,
  ArgumentsError,
  AuditError,
  ConfigurationError,
  EscalationDeniedError,
  PlanError,
  PolicyDenyError,
  ProvenanceError,
  RuntimeStateError,
  TenantIsolationError,
  UnauthorizedActionError,
} from '../errors.js';
import { createIntent, type Intent, type ValidatedIntent } from '../intent.js';
import { createLabeled, type Labeled, labelOf, sourcesOf, unwrapLabeled } from '../labeled.js';
import { isAtLeast, isProvenanceLabel, trustRank } from '../labels.js';
import { createPlan, type Plan, type PlanStep, type ValidatedPlan } from '../plan.js';
import type { AuditSink } from '../ports/audit-sink.js';
import type { Authority } from '../ports/authority.js';
import { type Clock, systemClock } from '../ports/clock.js';
import type { EscalationHandler, EscalationRequest, EscalationResult } from '../ports/escalation-handler.js';
import type { PolicyEvaluator } from '../ports/policy-evaluator.js';
import { type RuntimeEvent, type RuntimeState, nextState, transition } from '../state-machine.js';
import type {
  ActionRequest,
  AuditEventType,
  AuthorityToken,
  IntentScope,
  PolicyDecision,
  ProvenanceLabel,
  RevocationReason,
  SessionContext,
  TokenBinding,
} from '../types.js';
import { formatIssues } from '../validation.js';
import { createDenyAllEscalationHandler } from './deny-all-escalation-handler.js';
import { createInMemoryAuditSink } from './in-memory-audit-sink.js';
import { evaluateSafely, narrowToIntent, reviewPlan } from './policy-decisions.js';
import { isTool, type ToolLike } from './tool.js';

/**
 * How the gate applies decisions. `enforce` (default) denies and escalates. `observe` evaluates and
 * audits would-be denials and escalations (`enforced: false`) but runs the tool anyway. `disabled`
 * does not consult the policy and audits every call as such. Both `observe` and `disabled` are
 * UNSAFE in production: they exist for rollout and debugging.
 */
export type EnforcementMode = 'enforce' | 'observe' | 'disabled';

/** The enforcement modes, safest first. */
export const ENFORCEMENT_MODES = Object.freeze(['enforce', 'observe', 'disabled'] as const);

/** How long the gate waits for an escalation answer by default: 5 minutes. */
export const DEFAULT_ESCALATION_TIMEOUT_MS = 300_000;

/** What {@link createRuntime} takes. */
export interface RuntimeConfig {
  /** The one tenant this session belongs to. */
  readonly tenant: string;
  /** The compiled policy (`@ape/policy`'s `compilePolicy`/`loadPolicy`). */
  readonly policy: PolicyEvaluator;
  /** Issues and consumes tokens (`@ape/authority`'s `AuthorityManager`). If it declares a tenant, it must be `tenant`. */
  readonly authority: Authority;
  /** Where events go; default: an in-memory recorder without hash chain ({@link createInMemoryAuditSink}). */
  readonly audit?: AuditSink;
  /** Who approves escalations; default: deny-all ({@link createDenyAllEscalationHandler}). */
  readonly escalation?: EscalationHandler;
  /** Time for audit timestamps and durations; default: the system clock. */
  readonly clock?: Clock;
  /** The enforcement mode; default `enforce`. */
  readonly mode?: EnforcementMode;
  /** Alias of `mode` (the name used in the issue tracker); if both are given they must agree. */
  readonly enforcementMode?: EnforcementMode;
  /** The session id; default: a random UUID. */
  readonly sessionId?: string;
  /** The label of plain (unlabelled) argument values when a call declares none; default `EXTERNAL_UNTRUSTED`. */
  readonly defaultProvenance?: ProvenanceLabel;
  /** How long to wait for an escalation answer before treating it as a denial, in ms (real time). */
  readonly escalationTimeoutMs?: number;
  /** Argument names whose values are written to the audit log in clear; all others appear only as a digest. */
  readonly auditArgs?: readonly string[];
}

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

/** Options of {@link Gate.execute}. */
export interface GateCallOptions {
  /** The plan step the token was authorised for. */
  readonly index: number;
  /** The call's arguments: the same (plain) values as at `authorize`. Default `{}`. */
  readonly args?: Readonly<Record<string, unknown>>;
}

/** The low-level gate: runs a tool with a token obtained from {@link AgentRuntime.authorize}. */
export interface Gate {
  /**
   * Checks state, step order and the tool's argument schema, consumes `token` for exactly this call,
   * runs the tool and returns its labelled output. Same errors as {@link AgentRuntime.executeStep},
   * plus `UnauthorizedActionError` when no authorisation is outstanding for the step or the args are
   * less trusted than at `authorize` (`details.field: 'provenance'`).
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
  /** sha256 of the approved plan, or `undefined` when no plan is approved. */
  readonly planHash: string | undefined;
  /** The intent in force (deep-frozen copy). */
  readonly intent: DeepReadonly<Intent> | undefined;
  /** The approved plan (deep-frozen copy). */
  readonly plan: DeepReadonly<Plan> | undefined;
  /** The index of the only step that may run next. */
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

/**
 * Creates the runtime of one agent session bound to one tenant.
 * @throws ConfigurationError (`CONFIG_INVALID`) for a malformed configuration, naming `details.field`.
 * @throws TenantIsolationError (`TENANT_MISMATCH`) when `authority.tenant` is another tenant.
 */
export function createRuntime(config: RuntimeConfig): AgentRuntime {
  return new SessionRuntime(config);
}

/** Where a call to the gate stands; built once per call by `#prepareCall`. */
interface PreparedCall {
  readonly index: number;
  readonly action: string;
  readonly args: DeepReadonly<Record<string, unknown>>;
  readonly provenance: ProvenanceLabel;
  readonly sources: readonly string[];
  readonly argsHash: string;
  readonly binding: TokenBinding;
}

interface ResolvedTool<Output> {
  readonly run: (args: Readonly<Record<string, unknown>>) => Output | Promise<Output>;
  readonly outputLabel: ProvenanceLabel;
  readonly checkArgs: ((args: unknown) => readonly { path: string; message: string }[]) | undefined;
}

interface Authorization {
  readonly provenance: ProvenanceLabel;
  readonly epoch: number;
}

function configError(field: string, message: string): ApeError {
  return new ConfigurationError(`createRuntime: ${message}`, { field });
}

function describeError(error: unknown): Record<string, unknown> {
  if (ApeError.isInstance(error)) return { name: error.name, code: error.code };
  return { name: error instanceof Error ? error.name : typeof error };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const TRUSTED_ENOUGH: ProvenanceLabel = 'USER_TRUSTED';

class SessionRuntime implements AgentRuntime {
  readonly tenant: string;
  readonly sessionId: string;
  readonly mode: EnforcementMode;
  readonly gate: Gate;
  readonly #authority: Authority;
  readonly #audit: AuditSink;
  readonly #escalation: EscalationHandler;
  readonly #clock: Clock;
  readonly #defaultProvenance: ProvenanceLabel;
  readonly #escalationTimeoutMs: number;
  readonly #auditArgs: ReadonlySet<string>;
  #policy: PolicyEvaluator;
  #policyDigest: string;
  #state: RuntimeState = 'INITIALIZED';
  #intent: ValidatedIntent | undefined;
  #scope: IntentScope | undefined;
  #plan: ValidatedPlan | undefined;
  #fixedArgsHashes: readonly (string | undefined)[] = [];
  #nextStep = 0;
  #stepInFlight = false;
  /** Bumped by everything that invalidates an authorisation in progress (intent, plan, policy, end). */
  #epoch = 0;
  #previousAction: string | undefined;
  #calls: Readonly<Record<string, number>> = Object.freeze(Object.create(null) as Record<string, number>);
  #escalationAbort: AbortController | undefined;
  #terminationReason: string | undefined;
  readonly #authorizations = new Map<number, Authorization>();

  constructor(config: RuntimeConfig) {
    if (typeof config !== 'object' || config === null)
      throw configError('config', 'a configuration object is required.');
    if (typeof config.tenant !== 'string' || config.tenant.length === 0) {
      throw configError('tenant', '`tenant` must be a non-empty string.');
    }
    const policy = config.policy;
    if (typeof policy?.evaluate !== 'function' || typeof policy.mayPermit !== 'function') {
      throw configError('policy', '`policy` must be a PolicyEvaluator (evaluate, mayPermit, digest).');
    }
    const authority = config.authority;
    if (
      typeof authority?.issue !== 'function' ||
      typeof authority.consume !== 'function' ||
      typeof authority.revokeSession !== 'function'
    ) {
      throw configError(
        'authority',
        '`authority` is required (for example an AuthorityManager from @ape/authority).',
      );
    }
    if (authority.tenant !== undefined && authority.tenant !== config.tenant) {
      throw new TenantIsolationError(
        `createRuntime: the authority serves tenant "${authority.tenant}", not "${config.tenant}".`,
        { field: 'authority' },
      );
    }
    if (
      config.mode !== undefined &&
      config.enforcementMode !== undefined &&
      config.mode !== config.enforcementMode
    ) {
      throw configError('mode', '`mode` and `enforcementMode` disagree; give one of them.');
    }
    const mode = config.mode ?? config.enforcementMode ?? 'enforce';
    if (!ENFORCEMENT_MODES.includes(mode)) {
      throw configError('mode', `unknown mode "${String(mode)}"; use enforce, observe or disabled.`);
    }
    if (config.defaultProvenance !== undefined && !isProvenanceLabel(config.defaultProvenance)) {
      throw configError('defaultProvenance', '`defaultProvenance` must be a provenance label.');
    }
    const timeout = config.escalationTimeoutMs ?? DEFAULT_ESCALATION_TIMEOUT_MS;
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
      throw configError(
        'escalationTimeoutMs',
        '`escalationTimeoutMs` must be a positive number of milliseconds.',
      );
    }
    if (
      config.auditArgs !== undefined &&
      (!Array.isArray(config.auditArgs) || config.auditArgs.some((name) => typeof name !== 'string'))
    ) {
      throw configError('auditArgs', '`auditArgs` must be an array of argument names.');
    }
    if (
      config.sessionId !== undefined &&
      (typeof config.sessionId !== 'string' || config.sessionId.length === 0)
    ) {
      throw configError('sessionId', '`sessionId` must be a non-empty string.');
    }
    this.tenant = config.tenant;
    this.sessionId = config.sessionId ?? randomUUID();
    this.mode = mode;
    this.#policy = policy;
    this.#policyDigest = readDigest(policy);
    this.#authority = authority;
    this.#audit = config.audit ?? createInMemoryAuditSink();
    this.#escalation = config.escalation ?? createDenyAllEscalationHandler();
    this.#clock = config.clock ?? systemClock;
    this.#defaultProvenance = config.defaultProvenance ?? 'EXTERNAL_UNTRUSTED';
    this.#escalationTimeoutMs = timeout;
    this.#auditArgs = new Set(config.auditArgs ?? []);
    this.gate = Object.freeze({
      execute: <Output>(token: AuthorityToken, tool: ToolLike<Output>, options: GateCallOptions) =>
        this.#executeWithToken(token, tool, options),
    });
    this.#record('session.created', {
      mode,
      policy: this.#policyDigest,
      defaultProvenance: this.#defaultProvenance,
    }).catch(() => undefined);
  }

  get state(): RuntimeState {
    return this.#state;
  }

  get intentVersion(): string | undefined {
    return this.#intent?.version;
  }

  get planHash(): string | undefined {
    return this.#plan?.hash;
  }

  get intent(): DeepReadonly<Intent> | undefined {
    return this.#intent?.value;
  }

  get plan(): DeepReadonly<Plan> | undefined {
    return this.#plan?.value;
  }

  get nextStepIndex(): number {
    return this.#nextStep;
  }

  get policyDigest(): string {
    return this.#policyDigest;
  }

  async setIntent(intent: unknown, options: ProvenanceOptions): Promise<void> {
    this.#requireTrusted(options, 'set the intent');
    this.#requireTransition('SET_INTENT', 'setIntent');
    const validated = createIntent(intent);
    this.#adoptIntent(validated);
    await Promise.all([
      this.#record('intent.set', this.#intentData(validated, undefined)),
      this.#move('SET_INTENT'),
    ]);
  }

  async updateIntent(intent: unknown, options: ProvenanceOptions): Promise<void> {
    this.#requireTrusted(options, 'update the intent');
    this.#requireIdle('updateIntent');
    this.#requireTransition('UPDATE_INTENT', 'updateIntent');
    const validated = createIntent(intent);
    const previous = this.#intent?.version;
    this.#adoptIntent(validated);
    this.#dropPlan();
    await Promise.all([
      this.#record('intent.set', this.#intentData(validated, previous)),
      this.#move('UPDATE_INTENT'),
    ]);
    await this.#revokeSessionTokens('intent_updated');
  }

  async submitPlan(plan: unknown, options: ProvenanceOptions): Promise<void> {
    if (!isAtLeast(options?.provenance, TRUSTED_ENOUGH)) {
      await this.#record('plan.rejected', { reason: 'provenance', provenance: String(options?.provenance) });
      this.#requireTrusted(options, 'submit a plan');
    }
    this.#requireIdle('submitPlan');
    this.#requireTransition('APPROVE_PLAN', 'submitPlan');
    const intent = this.#intent!;
    let validated: ValidatedPlan;
    try {
      validated = createPlan(plan, intent);
    } catch (error) {
      if (PlanError.isInstance(error)) {
        await this.#record('plan.rejected', {
          reason: 'invalid',
          errors: error.details['errors'] ?? [],
          step: error.details['step'],
        });
      }
      throw error;
    }
    const review =
      this.mode === 'disabled'
        ? { escalations: [] as number[] }
        : reviewPlan(validated.steps, {
            policy: this.#policy,
            digest: this.#policyDigest,
            tenant: this.tenant,
            session: this.sessionId,
            intent: intent.value,
            scope: this.#scope!,
            provenance: options.provenance,
            previousAction: this.#previousAction,
            calls: this.#calls,
          });
    if (review.denied !== undefined && this.mode === 'enforce') {
      const { step, action, decision } = review.denied;
      await this.#record('plan.rejected', {
        reason: 'policy',
        step,
        action,
        rules: decision.rules,
        detail: decision.reason,
        policy: this.#policyDigest,
      });
      throw new PlanError(`Plan rejected: step ${step} ("${action}") is denied: ${decision.reason}`, {
        step,
        action,
        rules: decision.rules,
        reason: decision.reason,
        policy: this.#policyDigest,
      });
    }
    const replacing = this.#plan !== undefined;
    this.#dropPlan();
    this.#plan = validated;
    this.#fixedArgsHashes = validated.steps.map((step) =>
      step.args === undefined ? undefined : hashCanonical(step.args),
    );
    await Promise.all([
      this.#record('plan.approved', {
        planHash: validated.hash,
        intentVersion: intent.version,
        steps: validated.steps.length,
        actions: validated.steps.map((step) => step.action_id),
        escalations: review.escalations,
        provenance: options.provenance,
        mode: this.mode,
        enforced: this.mode === 'enforce',
        ...(review.denied === undefined
          ? {}
          : { wouldReject: { step: review.denied.step, rules: review.denied.decision.rules } }),
      }),
      this.#move('APPROVE_PLAN'),
    ]);
    if (replacing) await this.#revokeSessionTokens('plan_changed');
  }

  async executeStep<Output>(
    index: number,
    tool: ToolLike<Output>,
    options: StepCallOptions = {},
  ): Promise<Labeled<Output>> {
    const { step, moved, epoch } = this.#claim(index);
    try {
      await moved;
      const resolved = resolveTool(tool, step, index);
      const call = this.#prepareCall(index, step, options.args, options.provenance);
      checkToolArgs(resolved, call);
      const pending: Promise<void>[] = [];
      try {
        await this.#decide(call, epoch, pending);
        const token = await this.#issue(call, epoch, pending);
        return await this.#consumeAndRun(call, token, resolved, epoch, pending);
      } catch (error) {
        throw await auditFailureOr(pending, error);
      }
    } finally {
      this.#stepInFlight = false;
    }
  }

  async authorize(index: number, options: StepCallOptions = {}): Promise<AuthorityToken> {
    const { step, moved, epoch } = this.#claim(index);
    try {
      await moved;
      const call = this.#prepareCall(index, step, options.args, options.provenance);
      const pending: Promise<void>[] = [];
      let token: AuthorityToken;
      try {
        await this.#decide(call, epoch, pending);
        token = await this.#issue(call, epoch, pending);
        await awaitInOrder(pending);
      } catch (error) {
        throw await auditFailureOr(pending, error);
      }
      this.#authorizations.set(index, { provenance: call.provenance, epoch });
      return token;
    } finally {
      this.#stepInFlight = false;
    }
  }

  async reloadPolicy(policy: PolicyEvaluator): Promise<void> {
    if (this.#state === 'TERMINATED') throw this.#terminatedError('reloadPolicy');
    if (this.#state === 'ESCALATION_REQUIRED') {
      throw new RuntimeStateError(
        'reloadPolicy is not allowed while an escalation is pending: wait for the answer or terminate the session.',
        { state: this.#state, operation: 'reloadPolicy' },
      );
    }
    if (typeof policy?.evaluate !== 'function' || typeof policy.mayPermit !== 'function') {
      throw configError('policy', 'reloadPolicy needs a PolicyEvaluator (evaluate, mayPermit, digest).');
    }
    const previous = this.#policyDigest;
    this.#policy = policy;
    this.#policyDigest = readDigest(policy);
    this.#epoch++;
    this.#authorizations.clear();
    await this.#revokeSessionTokens(
      'policy_reloaded',
      { previousPolicy: previous, policy: this.#policyDigest },
      true,
    );
  }

  async terminate(reason = 'terminated by the host'): Promise<void> {
    if (this.#state === 'TERMINATED') return;
    const from = this.#state;
    this.#enterTerminated(reason);
    let auditFailure: unknown;
    const note = async (record: Promise<void>): Promise<void> => {
      try {
        await record;
      } catch (error) {
        auditFailure ??= error;
      }
    };
    await note(this.#record('state.changed', { from, to: 'TERMINATED', event: 'TERMINATE' }));
    let revocationFailure: unknown;
    try {
      const count = await this.#authority.revokeSession(this.tenant, this.sessionId, 'terminated');
      await note(this.#record('token.revoked', { reason: 'terminated', count }));
    } catch (error) {
      revocationFailure = error;
    }
    await note(this.#record('session.terminated', { reason, from }));
    if (auditFailure !== undefined) throw auditFailure;
    try {
      await this.#audit.flush();
    } catch (error) {
      throw new AuditError(
        'The audit sink failed to flush at termination.',
        { event: 'session.terminated' },
        { cause: error },
      );
    }
    if (revocationFailure !== undefined) {
      throw new ApeError(
        'INTERNAL',
        `The session is terminated, but the authority failed to revoke its tokens: ${messageOf(revocationFailure)}.`,
        { operation: 'revokeSession' },
        { cause: revocationFailure },
      );
    }
  }

  // ---- the gate ----

  /** Synchronously reserves step `index`: no other call can pass this point until it is released. */
  #claim(index: number): { step: DeepReadonly<PlanStep>; moved: Promise<void>; epoch: number } {
    if (this.#state === 'TERMINATED') throw this.#terminatedError('executeStep');
    if (this.#stepInFlight || this.#state === 'ESCALATION_REQUIRED') {
      throw new RuntimeStateError(`Step ${index} cannot start: step ${this.#nextStep} is in progress.`, {
        state: this.#state,
        step: index,
      });
    }
    const plan = this.#plan;
    if ((this.#state !== 'PLAN_APPROVED' && this.#state !== 'EXECUTING') || plan === undefined) {
      throw new RuntimeStateError(`Step ${index} cannot run in state ${this.#state}: no plan is approved.`, {
        state: this.#state,
        step: index,
      });
    }
    if (!Number.isSafeInteger(index) || index !== this.#nextStep) {
      const reason =
        this.#nextStep >= plan.steps.length
          ? `every step of the plan (${plan.steps.length}) has run`
          : `steps run in plan order and the next one is ${this.#nextStep}`;
      throw new RuntimeStateError(`Step ${String(index)} cannot run: ${reason}.`, {
        state: this.#state,
        step: index,
        expected: this.#nextStep,
      });
    }
    const step = plan.steps[index];
    if (step === undefined) {
      throw new RuntimeStateError(`Step ${index} cannot run: the plan has ${plan.steps.length} steps.`, {
        state: this.#state,
        step: index,
      });
    }
    this.#stepInFlight = true;
    return { step, moved: this.#move('BEGIN_STEP'), epoch: this.#epoch };
  }

  #prepareCall(
    index: number,
    step: DeepReadonly<PlanStep>,
    rawArgs: Readonly<Record<string, unknown>> | undefined,
    declared: ProvenanceLabel | undefined,
  ): PreparedCall {
    const action = step.action_id;
    const args = rawArgs ?? {};
    if (typeof args !== 'object' || args === null || Array.isArray(args)) {
      throw new ArgumentsError(`Step ${index} ("${action}"): arguments must be an object.`, {
        step: index,
        action,
      });
    }
    const plainLabel =
      declared === undefined
        ? this.#defaultProvenance
        : isProvenanceLabel(declared)
          ? declared
          : 'EXTERNAL_UNTRUSTED';
    let plain: Record<string, unknown>;
    let argsHash: string;
    try {
      plain = unwrapLabeled<Record<string, unknown>>(args);
      argsHash = hashCanonical(plain);
    } catch (error) {
      throw new ArgumentsError(
        `Step ${index} ("${action}"): arguments are not plain JSON: ${messageOf(error)}`,
        { step: index, action, ...(ApeError.isInstance(error) ? { path: error.details['path'] } : {}) },
        { cause: error },
      );
    }
    const fixed = this.#fixedArgsHashes[index];
    if (fixed !== undefined && fixed !== argsHash) {
      throw new ArgumentsError(
        `Step ${index} ("${action}"): arguments differ from those fixed by the approved plan.`,
        { step: index, action, field: 'args' },
      );
    }
    return {
      index,
      action,
      args: deepFreeze(plain),
      provenance: labelOf(args, plainLabel),
      sources: sourcesOf(args),
      argsHash,
      binding: Object.freeze({
        tenant: this.tenant,
        session: this.sessionId,
        intentVersion: this.#intent!.version,
        planHash: this.#plan!.hash,
        stepIndex: index,
        action,
        argsHash,
      }),
    };
  }

  /**
   * Policy (narrowed by the intent), audit, then DENY/ESCALATE handling per mode. Resolves when the
   * call may have a token. On the path to a token (ALLOW, or not enforced) the `decision.made` append
   * is started and pushed to `pending` rather than awaited: the sink keeps call order, and the caller
   * awaits every pending append before the tool runs. A DENY or ESCALATE awaits it here, as before.
   */
  async #decide(call: PreparedCall, epoch: number, pending: Promise<void>[]): Promise<void> {
    let decision: PolicyDecision;
    if (this.mode === 'disabled') {
      decision = Object.freeze({
        decision: 'ALLOW',
        rules: [],
        reason: 'Enforcement is disabled; the policy was not consulted.',
        policy: this.#policyDigest,
      });
    } else {
      const raw = evaluateSafely(this.#policy, this.#policyDigest, this.#request(call));
      decision = narrowToIntent(raw, this.#intent!.value, call.action);
    }
    const enforced = this.mode === 'enforce';
    const recorded = this.#record('decision.made', {
      stepIndex: call.index,
      action: call.action,
      decision: decision.decision,
      rules: decision.rules,
      reason: decision.reason,
      policy: decision.policy,
      ...(decision.code === undefined ? {} : { code: decision.code }),
      argsDigest: call.argsHash,
      argNames: Object.keys(call.args).sort(),
      ...this.#clearArgs(call),
      provenance: call.provenance,
      sources: call.sources,
      mode: this.mode,
      enforced,
    });
    if (!enforced || decision.decision === 'ALLOW') {
      startPending(pending, recorded);
      this.#checkEpoch(epoch, call.index);
      return;
    }
    await recorded;
    this.#checkEpoch(epoch, call.index);
    if (decision.decision === 'DENY') {
      await this.#revokeSessionTokens('policy_violation', { stepIndex: call.index });
      throw new PolicyDenyError(`Step ${call.index} ("${call.action}") is denied: ${decision.reason}`, {
        step: call.index,
        action: call.action,
        rules: decision.rules,
        reason: decision.reason,
        policy: decision.policy,
        provenance: call.provenance,
        ...(decision.code === undefined ? {} : { code: decision.code }),
      });
    }
    if (decision.decision === 'ESCALATE') await this.#escalate(call, decision, epoch);
  }

  async #escalate(call: PreparedCall, decision: PolicyDecision, epoch: number): Promise<void> {
    await Promise.all([
      this.#move('REQUIRE_ESCALATION'),
      this.#record('escalation.requested', {
        stepIndex: call.index,
        action: call.action,
        rules: decision.rules,
        reason: decision.reason,
        provenance: call.provenance,
        argsDigest: call.argsHash,
      }),
    ]);
    this.#checkEpoch(epoch, call.index);
    const request: EscalationRequest = Object.freeze({
      tenant: this.tenant,
      session: this.sessionId,
      stepIndex: call.index,
      action: call.action,
      args: call.args,
      provenance: call.provenance,
      decision,
    });
    const controller = new AbortController();
    this.#escalationAbort = controller;
    let answer: EscalationResult | undefined;
    let failure: string | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const stop = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          failure = 'timeout';
          controller.abort();
        }, this.#escalationTimeoutMs);
        timer.unref?.();
        controller.signal.addEventListener('abort', () => reject(new Error('escalation aborted')), {
          once: true,
        });
      });
      const asked = (async () => this.#escalation.requestApproval(request, controller.signal))();
      answer = await Promise.race([asked, stop]);
    } catch (error) {
      failure ??= `the escalation handler failed: ${messageOf(error)}`;
    } finally {
      clearTimeout(timer);
      this.#escalationAbort = undefined;
    }
    if (this.#epoch !== epoch || this.#state === 'TERMINATED') {
      throw new EscalationDeniedError(
        `Step ${call.index} ("${call.action}") was not approved: the session ended while waiting for approval.`,
        { step: call.index, action: call.action, reason: 'terminated' },
      );
    }
    const approver =
      typeof answer?.approver === 'string' ? answer.approver : failure === 'timeout' ? 'timeout' : 'unknown';
    if (failure === undefined && answer?.approved === true && isAtLeast(answer.provenance, TRUSTED_ENOUGH)) {
      await Promise.all([
        this.#record('escalation.approved', {
          stepIndex: call.index,
          action: call.action,
          approver,
          provenance: answer.provenance,
          ...(typeof answer.reason === 'string' ? { reason: answer.reason } : {}),
        }),
        this.#move('APPROVE_ESCALATION'),
      ]);
      return;
    }
    const why =
      failure ??
      (answer?.approved === true
        ? `the approval is labelled ${String(answer.provenance)}, and untrusted data never grants authority`
        : `the approver "${approver}" denied it${typeof answer?.reason === 'string' ? ` (${answer.reason})` : ''}`);
    const untrusted = failure === undefined && answer?.approved === true;
    const from = this.#state;
    this.#state = transition(from, 'DENY_ESCALATION');
    this.#enterTerminated(`escalation of step ${call.index} denied`);
    // The session is over whatever happens below; an audit failure here must not hide the denial.
    const note = (record: Promise<void>): Promise<void> => record.catch(() => undefined);
    await note(
      this.#record('escalation.denied', {
        stepIndex: call.index,
        action: call.action,
        approver,
        reason: why,
        ...(untrusted ? { untrustedApproval: true } : {}),
      }),
    );
    await note(this.#record('state.changed', { from, to: 'TERMINATED', event: 'DENY_ESCALATION' }));
    let count = 0;
    try {
      count = await this.#authority.revokeSession(this.tenant, this.sessionId, 'escalation_denied');
    } catch {
      count = -1;
    }
    await note(this.#record('token.revoked', { reason: 'escalation_denied', count }));
    await note(this.#record('session.terminated', { reason: 'escalation_denied', from }));
    throw new EscalationDeniedError(
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

  /** Issues the call's token and starts (into `pending`) its `token.issued` append. */
  async #issue(call: PreparedCall, epoch: number, pending: Promise<void>[]): Promise<AuthorityToken> {
    let token: AuthorityToken;
    try {
      token = await this.#authority.issue(call.binding);
    } catch (error) {
      throw await this.#authorityFailure(error, call, 'issue');
    }
    if (this.#epoch !== epoch) {
      await Promise.resolve(this.#authority.revoke(token, 'explicit')).catch(() => false);
      this.#checkEpoch(epoch, call.index);
    }
    startPending(
      pending,
      this.#record('token.issued', {
        fingerprint: token.fingerprint,
        stepIndex: call.index,
        action: call.action,
        expiresAt: token.expiresAt,
      }),
    );
    return token;
  }

  /**
   * Consumes the token, then awaits every pending append (`decision.made`, `token.issued`,
   * `token.consumed`, in call order) before the tool runs: an audit failure there throws and the
   * tool is not called.
   */
  async #consumeAndRun<Output>(
    call: PreparedCall,
    token: AuthorityToken,
    tool: ResolvedTool<Output>,
    epoch: number,
    pending: Promise<void>[],
  ): Promise<Labeled<Output>> {
    this.#checkEpoch(epoch, call.index);
    const fingerprint = typeof token?.fingerprint === 'string' ? token.fingerprint : 'unknown';
    try {
      await this.#authority.consume(token, call.binding);
    } catch (error) {
      throw await this.#authorityFailure(error, call, 'consume');
    }
    startPending(
      pending,
      this.#record('token.consumed', { fingerprint, stepIndex: call.index, action: call.action }),
    );
    await awaitInOrder(pending);
    this.#checkEpoch(epoch, call.index);
    let startedAt: number;
    try {
      startedAt = this.#clock.now();
    } catch (error) {
      throw new PolicyDenyError(
        `Step ${call.index} ("${call.action}") is denied: the clock failed (${messageOf(error)}); failing closed.`,
        { step: call.index, action: call.action, code: 'CLOCK_FAILURE' },
        { cause: error },
      );
    }
    this.#nextStep = call.index + 1;
    this.#previousAction = call.action;
    this.#calls = Object.freeze(
      Object.assign(Object.create(null) as Record<string, number>, this.#calls, {
        [call.action]: (this.#calls[call.action] ?? 0) + 1,
      }),
    );
    this.#authorizations.delete(call.index);
    let output: Output;
    try {
      output = await tool.run(call.args as Readonly<Record<string, unknown>>);
    } catch (error) {
      await this.#record('tool.executed', {
        stepIndex: call.index,
        action: call.action,
        ok: false,
        error: describeError(error),
        durationMs: this.#elapsedSince(startedAt),
      });
      throw error;
    }
    await this.#record('tool.executed', {
      stepIndex: call.index,
      action: call.action,
      ok: true,
      durationMs: this.#elapsedSince(startedAt),
    });
    return createLabeled(output, tool.outputLabel, [`tool:${call.action}`]);
  }

  async #executeWithToken<Output>(
    token: AuthorityToken,
    tool: ToolLike<Output>,
    options: GateCallOptions,
  ): Promise<Labeled<Output>> {
    const index = options?.index;
    const { step, moved, epoch } = this.#claim(index);
    try {
      await moved;
      const authorization = this.#authorizations.get(index);
      if (authorization === undefined || authorization.epoch !== this.#epoch) {
        throw new UnauthorizedActionError(
          `No authorisation is outstanding for step ${index}; call authorize first.`,
          {
            step: index,
            field: 'token',
          },
        );
      }
      const resolved = resolveTool(tool, step, index);
      const call = this.#prepareCall(index, step, options.args, authorization.provenance);
      if (trustRank(call.provenance) < trustRank(authorization.provenance)) {
        throw new UnauthorizedActionError(
          `Step ${index}: the arguments are labelled ${call.provenance}, less trusted than the ${authorization.provenance} they were authorised with.`,
          { step: index, field: 'provenance' },
        );
      }
      checkToolArgs(resolved, call);
      const pending: Promise<void>[] = [];
      try {
        return await this.#consumeAndRun(call, token, resolved, epoch, pending);
      } catch (error) {
        throw await auditFailureOr(pending, error);
      }
    } finally {
      this.#stepInFlight = false;
    }
  }

  /** Maps an authority failure to the error the caller sees, revoking on tenant mismatch. */
  async #authorityFailure(
    error: unknown,
    call: PreparedCall,
    operation: 'issue' | 'consume',
  ): Promise<ApeError> {
    if (TenantIsolationError.isInstance(error)) {
      await this.#revokeSessionTokens('tenant_mismatch', { stepIndex: call.index });
      return error;
    }
    if (ApeError.isInstance(error)) return error;
    return new PolicyDenyError(
      `Step ${call.index} ("${call.action}") is denied: the authority failed to ${operation} a token (${messageOf(error)}); failing closed.`,
      { step: call.index, action: call.action, code: 'AUTHORITY_FAILURE' },
      { cause: error },
    );
  }

  // ---- helpers ----

  #request(call: PreparedCall): ActionRequest {
    const session: SessionContext = {
      id: this.sessionId,
      ...(this.#previousAction === undefined ? {} : { previousAction: this.#previousAction }),
      calls: this.#calls,
    };
    return Object.freeze({
      tenant: this.tenant,
      action: call.action,
      args: call.args as Readonly<Record<string, unknown>>,
      provenance: call.provenance,
      session: Object.freeze(session),
      intent: this.#scope!,
    });
  }

  #clearArgs(call: PreparedCall): { args?: Record<string, unknown> } {
    if (this.#auditArgs.size === 0) return {};
    const clear: Record<string, unknown> = {};
    let any = false;
    for (const name of this.#auditArgs) {
      if (Object.hasOwn(call.args, name)) {
        Object.defineProperty(clear, name, { value: call.args[name], enumerable: true });
        any = true;
      }
    }
    return any ? { args: clear } : {};
  }

  #adoptIntent(validated: ValidatedIntent): void {
    this.#intent = validated;
    this.#scope = Object.freeze({
      allowed_actions: validated.value.allowed_actions,
      forbidden_actions: validated.value.forbidden_actions,
    });
  }

  #intentData(validated: ValidatedIntent, previous: string | undefined): Record<string, unknown> {
    return {
      version: validated.version,
      scope: validated.value.scope,
      allowed_actions: validated.value.allowed_actions,
      forbidden_actions: validated.value.forbidden_actions,
      escalation_required: validated.value.escalation_required ?? [],
      ...(previous === undefined ? {} : { update: true, previousVersion: previous }),
    };
  }

  #dropPlan(): void {
    this.#plan = undefined;
    this.#fixedArgsHashes = [];
    this.#nextStep = 0;
    this.#epoch++;
    this.#authorizations.clear();
  }

  #requireTrusted(options: ProvenanceOptions, what: string): void {
    const provenance: unknown = options?.provenance;
    if (!isAtLeast(provenance, TRUSTED_ENOUGH)) {
      throw new ProvenanceError(
        `Cannot ${what} with provenance ${String(provenance)}: only USER_TRUSTED or SYSTEM_TRUSTED input may create or change authority.`,
        { provenance: isProvenanceLabel(provenance) ? provenance : String(provenance) },
      );
    }
  }

  #requireIdle(operation: string): void {
    if (this.#stepInFlight) {
      throw new RuntimeStateError(
        `${operation} is not allowed while step ${this.#nextStep} is in progress.`,
        {
          state: this.#state,
          operation,
        },
      );
    }
  }

  #requireTransition(event: RuntimeEvent, operation: string): void {
    if (this.#state === 'TERMINATED') throw this.#terminatedError(operation);
    if (nextState(this.#state, event) === undefined) {
      const hint = event === 'SET_INTENT' ? ' The intent is already set; use updateIntent.' : '';
      throw new RuntimeStateError(`${operation} is not allowed in state ${this.#state}.${hint}`, {
        state: this.#state,
        event,
        operation,
      });
    }
  }

  #terminatedError(operation: string): RuntimeStateError {
    return new RuntimeStateError(
      `${operation} is not allowed: the session is terminated (${this.#terminationReason ?? 'terminated'}).`,
      { state: 'TERMINATED', operation, reason: this.#terminationReason },
    );
  }

  #checkEpoch(epoch: number, index: number): void {
    if (this.#epoch !== epoch) {
      throw new RuntimeStateError(
        `Step ${index} did not run: the session changed (intent, plan, policy or termination) while it was being authorised.`,
        { state: this.#state, step: index },
      );
    }
  }

  /** Applies a transition synchronously and returns the promise of its `state.changed` record. */
  #move(event: RuntimeEvent): Promise<void> {
    const from = this.#state;
    const to = transition(from, event);
    this.#state = to;
    if (from === to) return Promise.resolve();
    return this.#record('state.changed', { from, to, event });
  }

  #elapsedSince(startedAt: number): number {
    try {
      return Math.max(0, this.#clock.now() - startedAt);
    } catch {
      return 0;
    }
  }

  /** Enters TERMINATED without recording (callers record); invalidates everything in flight. */
  #enterTerminated(reason: string): void {
    this.#state = 'TERMINATED';
    this.#terminationReason ??= reason;
    this.#epoch++;
    this.#authorizations.clear();
    this.#escalationAbort?.abort();
  }

  async #revokeSessionTokens(
    reason: RevocationReason,
    extra: Record<string, unknown> = {},
    alwaysRecord = false,
  ): Promise<void> {
    let count: number;
    try {
      count = await this.#authority.revokeSession(this.tenant, this.sessionId, reason);
    } catch (error) {
      await this.#failClosed('the authority failed to revoke tokens');
      throw new ApeError(
        'INTERNAL',
        `The authority failed to revoke the session's tokens (${reason}): ${messageOf(error)}. The session is terminated.`,
        { reason },
        { cause: error },
      );
    }
    if (count > 0 || alwaysRecord) await this.#record('token.revoked', { reason, count, ...extra });
  }

  /** Terminates after an infrastructure failure; revocation is best effort, nothing is recorded. */
  async #failClosed(reason: string): Promise<void> {
    if (this.#state === 'TERMINATED') return;
    this.#enterTerminated(reason);
    try {
      await this.#authority.revokeSession(this.tenant, this.sessionId, 'terminated');
    } catch {
      // The gate refuses every call of a terminated session; the tokens also expire.
    }
  }

  /** Appends one event; a failure (sink or clock) terminates the session and throws AuditError. */
  async #record(type: AuditEventType, data: Record<string, unknown>): Promise<void> {
    try {
      const time = this.#clock.now();
      if (typeof time !== 'number' || !Number.isFinite(time))
        throw new Error('the clock returned a non-finite time');
      await this.#audit.append(
        Object.freeze({
          type,
          tenant: this.tenant,
          session: this.sessionId,
          time,
          data: Object.freeze(data),
        }),
      );
    } catch (error) {
      await this.#failClosed(`audit failure on ${type}`);
      throw new AuditError(
        `The audit sink could not record ${type} (${messageOf(error)}); failing closed: the session is terminated.`,
        { event: type },
        { cause: error },
      );
    }
  }
}

/**
 * Adds an append that was started but not awaited to `pending`. A handler is attached at once so a
 * rejection is never unhandled; the rejection still reaches whoever awaits the promise later.
 */
function startPending(pending: Promise<void>[], append: Promise<void>): void {
  append.catch(ignore);
  pending.push(append);
}

function ignore(): void {}

/** Awaits the started appends in call order; throws the first (in that order) that failed. */
async function awaitInOrder(pending: readonly Promise<void>[]): Promise<void> {
  for (const append of pending) await append;
}

/**
 * The error a step fails with once `error` was thrown while appends were pending: the audit
 * failure (AUDIT_FAILURE, the session already terminated by `#record`) when one of them failed,
 * so an audit failure is reported as such whatever it interrupted; otherwise `error` itself.
 */
async function auditFailureOr(pending: readonly Promise<void>[], error: unknown): Promise<unknown> {
  for (const append of pending) {
    try {
      await append;
    } catch (failure) {
      return failure;
    }
  }
  return error;
}

function readDigest(policy: PolicyEvaluator): string {
  try {
    return typeof policy.digest === 'string' ? policy.digest : 'unknown';
  } catch {
    return 'unknown';
  }
}

function resolveTool<Output>(
  tool: ToolLike<Output>,
  step: DeepReadonly<PlanStep>,
  index: number,
): ResolvedTool<Output> {
  if (typeof tool === 'function')
    return { run: tool, outputLabel: 'EXTERNAL_UNTRUSTED', checkArgs: undefined };
  if (isTool(tool)) {
    // A Tool's id is the action it performs, and only the action id was decided by intent and
    // policy: a step may not name one action and run another (`tool_id` cannot alias a tool).
    const expected = step.action_id;
    if (tool.id !== expected || (step.tool_id !== undefined && step.tool_id !== tool.id)) {
      throw new ActionError(
        `Step ${index} was authorised for action "${expected}"${step.tool_id === undefined ? '' : ` (tool_id "${step.tool_id}")`}; it cannot run tool "${tool.id}".`,
        { step: index, field: 'tool', expected, actual: tool.id },
      );
    }
    const typed = tool as ToolLike<Output> & { run: ResolvedTool<Output>['run'] };
    return { run: typed.run, outputLabel: tool.outputLabel, checkArgs: tool.checkArgs };
  }
  throw new ActionError(`Step ${index}: the tool must be a function or a Tool made with defineTool.`, {
    step: index,
    field: 'tool',
  });
}

function checkToolArgs(tool: ResolvedTool<unknown>, call: PreparedCall): void {
  if (tool.checkArgs === undefined) return;
  const issues = tool.checkArgs(call.args);
  if (issues.length > 0) {
    throw new ArgumentsError(
      `Step ${call.index} ("${call.action}"): arguments do not fit the tool's schema: ${formatIssues(issues)}.`,
      { step: call.index, action: call.action, errors: issues },
    );
  }
}
