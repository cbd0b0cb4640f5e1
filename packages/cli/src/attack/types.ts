import type {
  AgentRuntime,
  AuditSink,
  Authority,
  Clock,
  EscalationHandler,
  PolicyEvaluator,
  ToolFunction,
} from '@ape/core';
import type { MemoryAuditSink } from '@ape/audit';
import type { ShippedPolicyName } from './shipped-policies.js';

/** @internal The attack families of `ape attack` (docs/security.md maps each to OWASP). */
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

/** @internal Every family, in report order. */
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
 * @internal Which layer a scenario attacks: `policy` scenarios are stopped by the policy's rules
 * (a policy that allows everything lets them through), `authority` scenarios by the token
 * checks, `runtime` scenarios by the runtime's state machine and fail-closed paths.
 */
export type AttackLayer = 'policy' | 'authority' | 'runtime';

/** @internal `BLOCKED`: a check stopped the attack; `SUCCEEDED`: the harmful tool ran (or a forbidden token was accepted). */
export type AttackVerdict = 'BLOCKED' | 'SUCCEEDED';

/** @internal A recording tool: counts its calls and keeps their arguments. */
export interface SpyTool {
  readonly name: string;
  /** A plain-function tool (the gate checks no tool id for it: the weakest wiring a host can choose). */
  readonly tool: ToolFunction<string>;
  readonly calls: readonly Readonly<Record<string, unknown>>[];
}

/** @internal Options of {@link AttackContext.session}. */
export interface SessionOptions {
  /** The shipped policy the session is built from; default: the scenario's target. */
  readonly target?: ShippedPolicyName;
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
}

/** @internal A fake clock the scenario moves by hand. */
export interface AttackClock extends Clock {
  advance(milliseconds: number): void;
}

/** @internal One session built for an attack, with its parts. */
export interface AttackSession {
  readonly runtime: AgentRuntime;
  readonly authority: Authority;
  readonly clock: AttackClock;
  readonly audit: MemoryAuditSink;
}

/** @internal What a scenario may use. */
export interface AttackContext {
  /** The policy a session of `target` runs under (the shipped one, or the `--policy` file). */
  policy(target?: ShippedPolicyName): PolicyEvaluator;
  /** A new authority for `tenant` (an `AuthorityManager` unless the environment replaces it). */
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
  /** The mechanism a typed error stands for (see `mechanismOf`); `undefined` for an untyped error. */
  mechanism(error: unknown): string | undefined;
  /** Ends the scenario as BLOCKED by `mechanism` when no single error tells what stopped it. */
  blocked(mechanism: string, detail: string): AttackBlocked;
}

/** @internal The explicit outcome of a scenario that handled its own errors. */
export interface AttackBlocked {
  readonly blockedBy: string;
  readonly detail: string;
}

/** @internal One attack of the battery. */
export interface AttackScenario {
  /** Stable id, `<family>.<variant>`. */
  readonly id: string;
  readonly family: AttackFamily;
  readonly layer: AttackLayer;
  /** The shipped policy the attack targets. */
  readonly target: ShippedPolicyName;
  /** One sentence: what the attacker tries. */
  readonly title: string;
  /**
   * Performs the attack. It throws the error that stopped it, or returns {@link AttackBlocked}; if
   * a harmful tool ran, the attack succeeded whatever it returns.
   */
  run(context: AttackContext): Promise<AttackBlocked | undefined>;
}

/** @internal The result of one scenario. */
export interface AttackResult {
  readonly id: string;
  readonly family: AttackFamily;
  readonly layer: AttackLayer;
  /** The policy the attack ran against: a shipped policy name, or the `--policy` file. */
  readonly policy: string;
  readonly title: string;
  readonly verdict: AttackVerdict;
  /** What stopped it (`policy:<rule>`, `provenance:<rule>`, `token:binding:argsHash`, `state-machine`, ...), or `none`. */
  readonly mechanism: string;
  /** One sentence: the error message or what ran. */
  readonly detail: string;
}

/** @internal The whole battery's outcome; the `--json` output of `ape attack`. */
export interface AttackReport {
  /** True when every scenario was BLOCKED. */
  readonly ok: boolean;
  /** `shipped` or the `--policy` file as given. */
  readonly policy: string;
  readonly total: number;
  readonly blocked: number;
  readonly succeeded: number;
  readonly scenarios: readonly AttackResult[];
}
