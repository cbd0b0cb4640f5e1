import { MemoryAuditSink } from '@ape/audit';
import { AuthorityManager } from '@ape/authority';
import {
  type AgentRuntime,
  type Authority,
  type Clock,
  createRuntime,
  type PolicyEvaluator,
  type RuntimeConfig,
} from '@ape/core';
import { DenyAllEscalation } from '@ape/escalation';
import type { ExamplePolicyName } from './example-policies.js';
import { mechanismOf, type RuleKinds } from './mechanism.js';
import type {
  AttackClock,
  AttackContext,
  AttackScenario,
  AttackSession,
  ScenarioIdentity,
  SessionOptions,
  SpyTool,
} from './types.js';

/** @internal Where a run gets its policies and authorities from. */
export interface AttackEnvironment {
  /** The policy sessions of `target` run under. */
  policyFor(target: ExamplePolicyName): PolicyEvaluator;
  /** How the report names the policy of `target`. */
  policyLabel(target: ExamplePolicyName): string;
  /** A new authority; default: an `AuthorityManager` with a 60 s TTL. */
  createAuthority?(tenant: string, clock: Clock): Authority;
  /**
   * A new runtime; default: `createRuntime` of `@ape/core`. The tests put a weakened host here to
   * show that the runtime-layer scenarios are real.
   */
  createRuntime?(config: RuntimeConfig): AgentRuntime;
  /** Whether a scenario tests the run's policy (see `AttackResult.applicable`); default: always. */
  applies?(scenario: AttackScenario): boolean;
}

/** @internal The tenant attack sessions belong to unless a scenario names another. */
export const ATTACK_TENANT = 'acme';

/** Sessions escalate and wait for at most this long (real time). */
const ESCALATION_TIMEOUT_MS = 5_000;

const CLOCK_START = 1_767_225_600_000;

/** @internal A fake clock starting at a fixed instant. */
export function createAttackClock(): AttackClock {
  let now = CLOCK_START;
  return {
    now: () => now,
    advance: (milliseconds) => {
      now += milliseconds;
    },
  };
}

/** @internal Everything one scenario run created, so the runner can judge and clean up after it. */
export interface ScenarioTrace {
  readonly harmful: SpyTool[];
  readonly harmless: SpyTool[];
  readonly runtimes: AgentRuntime[];
  readonly sinks: MemoryAuditSink[];
}

/** @internal An empty trace. */
export function createTrace(): ScenarioTrace {
  return { harmful: [], harmless: [], runtimes: [], sinks: [] };
}

function createSpy(name: string, log: SpyTool[]): SpyTool {
  const calls: Readonly<Record<string, unknown>>[] = [];
  const spy: SpyTool = {
    name,
    calls,
    tool: (args) => {
      calls.push(args);
      return `${name} ran`;
    },
  };
  log.push(spy);
  return spy;
}

/** @internal The context one run of `scenario` gets; everything it creates is recorded in `trace`. */
export function createContext(
  scenario: ScenarioIdentity,
  environment: AttackEnvironment,
  trace: ScenarioTrace,
  kinds: RuleKinds,
): AttackContext {
  const authorityFor = (tenant: string, clock: Clock): Authority =>
    environment.createAuthority?.(tenant, clock) ?? new AuthorityManager({ tenant, clock });
  const context: AttackContext = {
    policy: (target) => environment.policyFor(target ?? scenario.target),
    authority: authorityFor,
    clock: createAttackClock,
    session(options: SessionOptions = {}): AttackSession {
      const tenant = options.tenant ?? ATTACK_TENANT;
      const clock = (options.clock as AttackClock | undefined) ?? createAttackClock();
      const authority = options.authority ?? authorityFor(tenant, clock);
      const audit = new MemoryAuditSink();
      trace.sinks.push(audit);
      const runtime = (environment.createRuntime ?? createRuntime)({
        tenant,
        policy: options.policy ?? environment.policyFor(options.target ?? scenario.target),
        authority,
        audit: options.wrapAudit === undefined ? audit : options.wrapAudit(audit),
        escalation: options.escalation ?? new DenyAllEscalation(),
        clock,
        escalationTimeoutMs: options.escalationTimeoutMs ?? ESCALATION_TIMEOUT_MS,
        ...(options.sessionId === undefined ? {} : { sessionId: options.sessionId }),
        ...(options.usage === undefined ? {} : { usage: options.usage }),
        ...(options.lineage === undefined ? {} : { lineage: options.lineage }),
        ...(options.continuesSession === undefined ? {} : { continuesSession: options.continuesSession }),
      });
      trace.runtimes.push(runtime);
      return { runtime, authority, clock, audit };
    },
    async start(intent, plan, options) {
      const session = context.session(options);
      await session.runtime.setIntent(intent, { provenance: 'USER_TRUSTED' });
      await session.runtime.submitPlan(plan, { provenance: 'USER_TRUSTED' });
      return session;
    },
    harmful: (name) => createSpy(name, trace.harmful),
    harmless: (name) => createSpy(name, trace.harmless),
    mechanism: (error) => mechanismOf(error, kinds),
    blocked: (mechanism, detail) => ({ blockedBy: mechanism, detail }),
  };
  return context;
}
