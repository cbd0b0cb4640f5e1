import { MemoryAuditSink, verifyAuditLog } from '@ape/audit';
import { AuthorityManager } from '@ape/authority';
import {
  type AgentRuntime,
  type Authority,
  type Clock,
  createRuntime,
  type PolicyEvaluator,
} from '@ape/core';
import { DenyAllEscalation } from '@ape/escalation';
import { type CompiledPolicy, loadPolicy } from '@ape/policy';
import { mechanismOf, type RuleKinds, ruleKindsOf } from './mechanism.js';
import { SHIPPED_POLICY_TEXTS, type ShippedPolicyName } from './shipped-policies.js';
import type {
  AttackBlocked,
  AttackClock,
  AttackContext,
  AttackReport,
  AttackResult,
  AttackScenario,
  AttackSession,
  SessionOptions,
  SpyTool,
} from './types.js';

/** @internal Where a battery gets its policies and authorities from. */
export interface AttackEnvironment {
  /** The policy sessions of `target` run under. */
  policyFor(target: ShippedPolicyName): PolicyEvaluator;
  /** How the report names the policy of `target`. */
  policyLabel(target: ShippedPolicyName): string;
  /** A new authority; default: an `AuthorityManager` with a 60 s TTL. */
  createAuthority?(tenant: string, clock: Clock): Authority;
}

/** @internal The tenant attack sessions belong to unless a scenario names another. */
export const ATTACK_TENANT = 'acme';

/** @internal A scenario that has not finished after this long (real time) has hung: it fails. */
export const SCENARIO_TIMEOUT_MS = 15_000;

/** @internal Sessions escalate and wait for at most this long (real time). */
const ESCALATION_TIMEOUT_MS = 5_000;

const CLOCK_START = 1_767_225_600_000;

/** @internal Compiles one shipped policy from its text (file name kept, so the digest is the file's). */
export function loadShippedPolicy(name: ShippedPolicyName): CompiledPolicy {
  return loadPolicy({ text: SHIPPED_POLICY_TEXTS[name], filename: `${name}.yaml` });
}

/**
 * @internal The default environment: every scenario runs against the shipped policy it targets,
 * each replaced by `overrides[target]` when given (the tests use this for weakened policies).
 */
export function shippedEnvironment(
  overrides: Partial<Record<ShippedPolicyName, PolicyEvaluator>> = {},
  createAuthority?: (tenant: string, clock: Clock) => Authority,
): AttackEnvironment {
  const cache = new Map<ShippedPolicyName, PolicyEvaluator>();
  return {
    policyFor(target) {
      const override = overrides[target];
      if (override !== undefined) return override;
      let policy = cache.get(target);
      if (policy === undefined) {
        policy = loadShippedPolicy(target);
        cache.set(target, policy);
      }
      return policy;
    },
    policyLabel: (target) => (overrides[target] === undefined ? target : `${target} (replaced)`),
    ...(createAuthority === undefined ? {} : { createAuthority }),
  };
}

/** @internal Every scenario runs against one policy (`ape attack --policy <file>`). */
export function singlePolicyEnvironment(policy: PolicyEvaluator, label: string): AttackEnvironment {
  return { policyFor: () => policy, policyLabel: () => label };
}

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

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Everything one scenario created, so the runner can judge and clean up after it. */
interface ScenarioTrace {
  readonly harmful: SpyTool[];
  readonly harmless: SpyTool[];
  readonly runtimes: AgentRuntime[];
  readonly sinks: MemoryAuditSink[];
}

function createContext(
  scenario: AttackScenario,
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
      const runtime = createRuntime({
        tenant,
        policy: options.policy ?? environment.policyFor(options.target ?? scenario.target),
        authority,
        audit: options.wrapAudit === undefined ? audit : options.wrapAudit(audit),
        escalation: options.escalation ?? new DenyAllEscalation(),
        clock,
        escalationTimeoutMs: options.escalationTimeoutMs ?? ESCALATION_TIMEOUT_MS,
        ...(options.sessionId === undefined ? {} : { sessionId: options.sessionId }),
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

type Settled =
  | { readonly kind: 'returned'; readonly value: AttackBlocked | undefined }
  | { readonly kind: 'threw'; readonly error: unknown }
  | { readonly kind: 'hung' };

async function settle(scenario: AttackScenario, context: AttackContext): Promise<Settled> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<Settled>((resolve) => {
    // Kept referenced on purpose: handlers and the runtime unref their own timers, so without this
    // one a process whose only pending work is an escalation timeout would exit mid-battery.
    timer = setTimeout(() => resolve({ kind: 'hung' }), SCENARIO_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      scenario.run(context).then(
        (value): Settled => ({ kind: 'returned', value }),
        (error: unknown): Settled => ({ kind: 'threw', error }),
      ),
      hung,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function cleanUp(trace: ScenarioTrace): Promise<string | undefined> {
  for (const runtime of trace.runtimes) {
    try {
      await runtime.terminate('attack scenario finished');
    } catch {
      // A probe may have broken the session's audit sink or authority on purpose.
    }
  }
  for (const [index, sink] of trace.sinks.entries()) {
    const verification = await verifyAuditLog(sink.lines());
    if (!verification.ok) {
      return `the audit log of session ${index + 1} does not verify (${verification.message ?? verification.problem})`;
    }
  }
  return undefined;
}

/** @internal Runs one scenario and judges it. */
export async function runScenario(
  scenario: AttackScenario,
  environment: AttackEnvironment,
  kinds: (target: ShippedPolicyName) => RuleKinds,
): Promise<AttackResult> {
  const trace: ScenarioTrace = { harmful: [], harmless: [], runtimes: [], sinks: [] };
  const settled = await settle(scenario, createContext(scenario, environment, trace, kinds(scenario.target)));
  const auditProblem = await cleanUp(trace);
  const base = {
    id: scenario.id,
    family: scenario.family,
    layer: scenario.layer,
    policy: environment.policyLabel(scenario.target),
    title: scenario.title,
  };
  const ran = trace.harmful.filter((spy) => spy.calls.length > 0);
  if (ran.length > 0) {
    const names = ran.map((spy) => `${spy.name} (${spy.calls.length}x)`).join(', ');
    return { ...base, verdict: 'SUCCEEDED', mechanism: 'none', detail: `the harmful tool ran: ${names}` };
  }
  if (settled.kind === 'hung') {
    return {
      ...base,
      verdict: 'SUCCEEDED',
      mechanism: 'none',
      detail: `the scenario did not finish within ${SCENARIO_TIMEOUT_MS} ms (the runtime hung)`,
    };
  }
  if (auditProblem !== undefined) {
    return { ...base, verdict: 'SUCCEEDED', mechanism: 'none', detail: auditProblem };
  }
  if (settled.kind === 'returned') {
    if (settled.value === undefined) {
      return {
        ...base,
        verdict: 'SUCCEEDED',
        mechanism: 'none',
        detail: 'no check stopped the attack (the scenario ended without an error)',
      };
    }
    return { ...base, verdict: 'BLOCKED', mechanism: settled.value.blockedBy, detail: settled.value.detail };
  }
  const mechanism = mechanismOf(settled.error, kinds(scenario.target));
  if (mechanism === undefined) {
    return {
      ...base,
      verdict: 'SUCCEEDED',
      mechanism: 'none',
      detail: `an untyped error escaped a public API: ${messageOf(settled.error)}`,
    };
  }
  return { ...base, verdict: 'BLOCKED', mechanism, detail: messageOf(settled.error) };
}

/** @internal Runs `scenarios` one after another against `environment`. */
export async function runAttacks(
  scenarios: readonly AttackScenario[],
  environment: AttackEnvironment,
  policyName = 'shipped',
): Promise<AttackReport> {
  const kindsCache = new Map<ShippedPolicyName, RuleKinds>();
  const kinds = (target: ShippedPolicyName): RuleKinds => {
    let found = kindsCache.get(target);
    if (found === undefined) {
      found = ruleKindsOf(environment.policyFor(target));
      kindsCache.set(target, found);
    }
    return found;
  };
  const results: AttackResult[] = [];
  for (const scenario of scenarios) results.push(await runScenario(scenario, environment, kinds));
  const succeeded = results.filter((result) => result.verdict === 'SUCCEEDED').length;
  return {
    ok: succeeded === 0,
    policy: policyName,
    total: results.length,
    blocked: results.length - succeeded,
    succeeded,
    scenarios: results,
  };
}
