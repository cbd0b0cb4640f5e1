import type { MemoryAuditSink } from '@ape/audit';
import type {
  AgentRuntime,
  AuditSink,
  Authority,
  Clock,
  EscalationHandler,
  PolicyEvaluator,
  ProvenanceLabel,
  ToolFunction,
  UsageStore,
} from '@ape/core';
import type { ExamplePolicyName } from './example-policies.js';

/** The attack families of the battery (docs/security.md maps each to OWASP). */
export type AttackFamily =
  | 'prompt-injection'
  | 'confused-deputy'
  | 'cross-tool-escalation'
  | 'instruction-smuggling'
  | 'authority-replay'
  | 'runtime-confusion'
  | 'plan-mutation'
  | 'budget-exhaustion'
  | 'approval-flooding'
  | 'fail-open';

/** Every family, in report order. */
export const ATTACK_FAMILIES: readonly AttackFamily[] = Object.freeze([
  'prompt-injection',
  'confused-deputy',
  'cross-tool-escalation',
  'instruction-smuggling',
  'authority-replay',
  'runtime-confusion',
  'plan-mutation',
  'budget-exhaustion',
  'approval-flooding',
  'fail-open',
]);

/**
 * Which layer a scenario attacks: `policy` scenarios are stopped by the policy's rules (a policy
 * that allows everything lets them through), `authority` scenarios by the token checks, `runtime`
 * scenarios by the runtime's state machine and fail-closed paths.
 */
export type AttackLayer = 'policy' | 'authority' | 'runtime';

/**
 * How a scenario drives the runtime: `plan` sets an intent, submits a plan and runs its steps with
 * `executeStep`; `calls` sets an intent and makes each step a `runtime.call(action, tool, { args,
 * provenance })` (no plan).
 */
export type AttackMode = 'plan' | 'calls';

/** `BLOCKED`: a check stopped the attack; `SUCCEEDED`: the harmful tool ran (or a forbidden token was accepted). */
export type AttackVerdict = 'BLOCKED' | 'SUCCEEDED';

/** A recording tool: counts its calls and keeps their arguments. */
export interface SpyTool {
  readonly name: string;
  /** A plain-function tool (the gate checks no tool id for it: the weakest wiring a host can choose). */
  readonly tool: ToolFunction<string>;
  readonly calls: readonly Readonly<Record<string, unknown>>[];
}

/** Options of {@link AttackContext.session}. */
export interface SessionOptions {
  /** The example policy the session is built from; default: the scenario's target. */
  readonly target?: ExamplePolicyName;
  /** Replaces the policy (for fail-open probes that wrap it). */
  readonly policy?: PolicyEvaluator;
  readonly tenant?: string;
  readonly sessionId?: string;
  /** Default: `DenyAllEscalation` (nobody approves). */
  readonly escalation?: EscalationHandler;
  /** Wraps the session's verified in-memory sink (for audit failure probes). */
  readonly wrapAudit?: (sink: MemoryAuditSink) => AuditSink;
  /** Default: a new authority from the environment for the session's tenant and clock. */
  readonly authority?: Authority;
  /** Default: a fresh fake clock. */
  readonly clock?: Clock;
  /** How long the runtime waits for an escalation answer (real time); default 5 s. */
  readonly escalationTimeoutMs?: number;
  /** The usage store of the session's limits and previous action; share one across a lineage. Default: the runtime's own. */
  readonly usage?: UsageStore;
  /** The lineage the session belongs to (needs `usage`). */
  readonly lineage?: string;
  /** The id of the terminated session whose session-scoped counts this one continues (needs `usage`). */
  readonly continuesSession?: string;
}

/** A fake clock the scenario moves by hand. */
export interface AttackClock extends Clock {
  advance(milliseconds: number): void;
}

/** One session built for an attack, with its parts. */
export interface AttackSession {
  readonly runtime: AgentRuntime;
  readonly authority: Authority;
  readonly clock: AttackClock;
  readonly audit: MemoryAuditSink;
}

/** What a scenario may use; the battery builds one per scenario run and cleans up after it. */
export interface AttackContext {
  /** The policy a session of `target` runs under (the example policy, or the single policy of the run). */
  policy(target?: ExamplePolicyName): PolicyEvaluator;
  /** A new authority for `tenant` (an `AuthorityManager` unless the run replaces it). */
  authority(tenant: string, clock: Clock): Authority;
  /** A new fake clock. */
  clock(): AttackClock;
  /** A fresh session (intent and plan not set yet). */
  session(options?: SessionOptions): AttackSession;
  /**
   * A fresh session with `intent` set and `plan` approved, both as USER_TRUSTED. Rejections (an
   * invalid intent, a plan the policy denies) throw, as they would for a real host.
   */
  start(
    intent: Readonly<Record<string, unknown>>,
    plan: unknown,
    options?: SessionOptions,
  ): Promise<AttackSession>;
  /** A tool whose running counts as the attack succeeding. */
  harmful(name: string): SpyTool;
  /** A tool a legitimate step may run (its calls are not an attack). */
  harmless(name: string): SpyTool;
  /** The mechanism a typed error stands for (`policy:<rule>`, `token:expired`, ...); `undefined` for an untyped error. */
  mechanism(error: unknown): string | undefined;
  /** Ends the scenario as BLOCKED by `mechanism` when no single error tells what stopped it. */
  blocked(mechanism: string, detail: string): AttackBlocked;
}

/** The explicit outcome of a scenario that handled its own errors. */
export interface AttackBlocked {
  readonly blockedBy: string;
  readonly detail: string;
}

/** The arguments of a step: a value, or made from the outputs (still labelled) of the steps before it. */
export type StepArguments =
  | Readonly<Record<string, unknown>>
  | ((outputs: readonly unknown[]) => Readonly<Record<string, unknown>>);

/** One call of a {@link StepsScenario}. */
export interface AttackStep {
  /**
   * The action the step performs: the name of the tool the host runs for it (a recording spy), the
   * action id of its plan step when the scenario's plan is derived from its steps, and the action
   * id of `runtime.call` in `calls` mode.
   */
  readonly action: string;
  /** `harmful`: the attack succeeded if this tool ran; `harmless`: a legitimate call. */
  readonly role: 'harmful' | 'harmless';
  readonly args: StepArguments;
  /** The label the host declares for the call; omitted, the runtime's default applies. */
  readonly provenance?: ProvenanceLabel;
  /** Hand the runtime a `defineTool` whose id is `action` (the gate checks it) instead of a plain function. */
  readonly definedTool?: boolean;
  /** `plan` mode: the plan step this call runs; default: the step's position in `steps`. */
  readonly index?: number;
  /** `plan` mode, derived plan: the plan step fixes these arguments (they must then be a value). */
  readonly fixedArgs?: boolean;
}

/** What every scenario has. */
export interface ScenarioIdentity {
  /** Stable id, `<family>.<variant>`. */
  readonly id: string;
  readonly family: AttackFamily;
  readonly layer: AttackLayer;
  /** The example policy the attack targets. */
  readonly target: ExamplePolicyName;
  /** One sentence: what the attacker tries. */
  readonly title: string;
  /** How the scenario drives the runtime (see {@link AttackMode}). */
  readonly mode: AttackMode;
}

/**
 * A scenario of the battery's common shape, as data: a session is started (intent, then in `plan`
 * mode a plan), then its steps run in order — harmless ones a legitimate task needs, then the
 * harmful one. The first refusal ends it (BLOCKED, by the mechanism of the typed error); a harmful
 * step that runs makes it SUCCEEDED.
 */
export interface StepsScenario extends ScenarioIdentity {
  /** The intent's `allowed_actions`; default: the distinct actions of `steps`, in order. */
  readonly intent?: readonly string[];
  /** The intent's `forbidden_actions`; default none. */
  readonly forbidden?: readonly string[];
  /** `plan` mode: the plan document; default: one step per entry of `steps` (`fixedArgs` steps keep their arguments). */
  readonly plan?: unknown;
  /** The label the intent is set with; default `USER_TRUSTED`. */
  readonly intentProvenance?: ProvenanceLabel;
  /** `plan` mode: the label the plan is submitted with; default `USER_TRUSTED`. */
  readonly planProvenance?: ProvenanceLabel;
  /** The session's options (tenant, escalation handler, a broken audit sink, ...), made per run. */
  readonly session?: (context: AttackContext) => SessionOptions;
  readonly steps: readonly AttackStep[];
}

/**
 * A scenario that drives the runtime itself: token replays, races, objects mutated after approval,
 * floods of sessions. It throws the error that stopped it, or returns {@link AttackBlocked}; if a
 * harmful tool ran, the attack succeeded whatever it returns.
 */
export interface ProcedureScenario extends ScenarioIdentity {
  run(context: AttackContext): Promise<AttackBlocked | undefined>;
}

/** One attack of the battery: a row of data ({@link StepsScenario}) or a procedure. */
export type AttackScenario = StepsScenario | ProcedureScenario;

/** The result of one scenario. */
export interface AttackResult {
  readonly id: string;
  readonly family: AttackFamily;
  readonly layer: AttackLayer;
  /** The policy the attack ran against: an example policy's name, or the run's label. */
  readonly policy: string;
  readonly title: string;
  readonly verdict: AttackVerdict;
  /** What stopped it (`policy:<rule>`, `provenance:<rule>`, `token:binding:argsHash`, `state-machine`, ...), or `none`. */
  readonly mechanism: string;
  /** One sentence: the error message or what ran (with the rules that allowed it). */
  readonly detail: string;
  /**
   * False when the scenario does not test this policy: a `policy`-layer attack on actions the
   * policy never names (default deny stops it whatever the policy says). Always true when every
   * scenario runs against the example policy it targets.
   */
  readonly applicable: boolean;
  /** For a SUCCEEDED scenario: the ids of the rules whose ALLOW or ESCALATE let the harmful tool run. */
  readonly allowedBy?: readonly string[];
}

/** The whole battery's outcome; the `--json` output of `ape attack`. */
export interface AttackReport {
  /** True when every scenario was BLOCKED. */
  readonly ok: boolean;
  /** The run's label: `shipped` for the example policies, or what the caller named its policy. */
  readonly policy: string;
  readonly total: number;
  readonly blocked: number;
  readonly succeeded: number;
  /** Scenarios that do not apply to the policy (see {@link AttackResult.applicable}); counted in `blocked` or `succeeded` too. */
  readonly notApplicable: number;
  readonly scenarios: readonly AttackResult[];
}
