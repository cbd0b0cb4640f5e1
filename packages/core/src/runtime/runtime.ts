import type { DeepReadonly } from '../deep-freeze.js';
import type { Intent } from '../intent.js';
import type { Labeled } from '../labeled.js';
import type { Plan } from '../plan.js';
import type { PolicyEvaluator } from '../ports/policy-evaluator.js';
import type { RuntimeState } from '../state-machine.js';
import type { AuthorityToken } from '../types.js';
import { type EnforcementMode, type RuntimeConfig, resolveConfig } from './config.js';
import * as lifecycle from './lifecycle.js';
import { authorizeProposal, authorizeStep, executeStep, executeWithToken, runCall } from './pipeline.js';
import type {
  AgentRuntime,
  CallAuthorization,
  Gate,
  GateCallOptions,
  ProvenanceOptions,
  StepCallOptions,
} from './runtime-api.js';
import { Session, type SessionMode } from './session.js';
import type { ToolLike } from './tool.js';

export type { EnforcementMode, RuntimeConfig } from './config.js';
export { DEFAULT_ESCALATION_TIMEOUT_MS, ENFORCEMENT_MODES } from './config.js';
export type {
  AgentRuntime,
  CallAuthorization,
  Gate,
  GateCallOptions,
  ProvenanceOptions,
  StepCallOptions,
} from './runtime-api.js';

/**
 * Creates the runtime of one agent session bound to one tenant.
 * @throws ConfigurationError (`CONFIG_INVALID`) for a malformed configuration, naming `details.field`.
 * @throws TenantIsolationError (`TENANT_MISMATCH`) when `authority.tenant` is another tenant.
 */
export function createRuntime(config: RuntimeConfig): AgentRuntime {
  return new SessionRuntime(config);
}

/**
 * The public face of one session: a thin shell over {@link Session} (the state), the lifecycle
 * operations and the gate's pipeline (docs/runtime.md describes the stages).
 */
class SessionRuntime implements AgentRuntime {
  readonly tenant: string;
  readonly sessionId: string;
  readonly mode: EnforcementMode;
  readonly gate: Gate;
  readonly #session: Session;

  constructor(config: RuntimeConfig) {
    const resolved = resolveConfig(config);
    const session = new Session(resolved);
    this.#session = session;
    this.tenant = resolved.tenant;
    this.sessionId = resolved.sessionId;
    this.mode = resolved.mode;
    this.gate = Object.freeze({
      execute: <Output>(token: AuthorityToken, tool: ToolLike<Output>, options: GateCallOptions) =>
        executeWithToken(session, token, tool, options?.index as number, options?.args),
    });
    session
      .record('session.created', {
        mode: resolved.mode,
        policy: session.policyDigest,
        defaultProvenance: resolved.defaultProvenance,
        ...(resolved.lineage === undefined ? {} : { lineage: resolved.lineage }),
        ...(resolved.continuesSession === undefined ? {} : { continuesSession: resolved.continuesSession }),
      })
      .catch(() => undefined);
  }

  get state(): RuntimeState {
    return this.#session.state;
  }

  get intentVersion(): string | undefined {
    return this.#session.intent?.version;
  }

  get planHash(): string | undefined {
    return this.#session.planHash;
  }

  get intent(): DeepReadonly<Intent> | undefined {
    return this.#session.intent?.value;
  }

  get plan(): DeepReadonly<Plan> | undefined {
    return this.#session.plannedSteps;
  }

  get sessionMode(): SessionMode | undefined {
    return this.#session.sessionMode;
  }

  get nextStepIndex(): number {
    return this.#session.nextStep;
  }

  get policyDigest(): string {
    return this.#session.policyDigest;
  }

  setIntent(intent: unknown, options: ProvenanceOptions): Promise<void> {
    return lifecycle.setIntent(this.#session, intent, options);
  }

  updateIntent(intent: unknown, options: ProvenanceOptions): Promise<void> {
    return lifecycle.updateIntent(this.#session, intent, options);
  }

  submitPlan(plan: unknown, options: ProvenanceOptions): Promise<void> {
    return lifecycle.submitPlan(this.#session, plan, options);
  }

  executeStep<Output>(
    index: number,
    tool: ToolLike<Output>,
    options: StepCallOptions = {},
  ): Promise<Labeled<Output>> {
    return executeStep(this.#session, index, tool, options ?? {});
  }

  authorize(index: number, options: StepCallOptions = {}): Promise<AuthorityToken> {
    return authorizeStep(this.#session, index, options ?? {});
  }

  call<Output>(
    actionId: string,
    tool: ToolLike<Output>,
    options: StepCallOptions = {},
  ): Promise<Labeled<Output>> {
    return runCall(this.#session, actionId, tool, options ?? {});
  }

  authorizeCall(actionId: string, options: StepCallOptions = {}): Promise<CallAuthorization> {
    return authorizeProposal(this.#session, actionId, options ?? {});
  }

  reloadPolicy(policy: PolicyEvaluator): Promise<void> {
    return lifecycle.reloadPolicy(this.#session, policy);
  }

  terminate(reason = 'terminated by the host'): Promise<void> {
    return lifecycle.terminate(this.#session, reason);
  }
}
