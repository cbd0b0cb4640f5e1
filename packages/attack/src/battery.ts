import { verifyAuditLog } from '@ape/audit';
import { AuthorityManager } from '@ape/authority';
import {
  type AgentRuntime,
  type Authority,
  type Clock,
  createRuntime,
  messageOf,
  type PolicyEvaluator,
  type RuntimeConfig,
} from '@ape/core';
import {
  ATTACK_TENANT,
  type AttackEnvironment,
  createContext,
  createTrace,
  type ScenarioTrace,
} from './context.js';
import type { ExamplePolicyName } from './example-policies.js';
import { mechanismOf, type RuleKinds, ruleKindsOf } from './mechanism.js';
import { appliesTo, namedActions, permittingRules } from './relevance.js';
import { callsOf, planOfScenario, runSteps } from './steps.js';
import type { AttackBlocked, AttackReport, AttackResult, AttackScenario } from './types.js';

/** @internal A scenario that has not finished after this long (real time) has hung: it fails. */
export const SCENARIO_TIMEOUT_MS = 15_000;

/**
 * @internal Every scenario runs against the example policy it targets (`policies`), each replaced
 * by `overrides[target]` when given (the tests use this for weakened policies, and
 * `createAuthority` / `createRuntime` for weakened authorities and hosts).
 */
export function exampleEnvironment(
  policies: Readonly<Record<ExamplePolicyName, PolicyEvaluator>>,
  overrides: Partial<Record<ExamplePolicyName, PolicyEvaluator>> = {},
  createAuthority?: (tenant: string, clock: Clock) => Authority,
  createRuntime?: (config: RuntimeConfig) => AgentRuntime,
): AttackEnvironment {
  return {
    policyFor: (target) => overrides[target] ?? policies[target],
    policyLabel: (target) => (overrides[target] === undefined ? target : `${target} (replaced)`),
    ...(createAuthority === undefined ? {} : { createAuthority }),
    ...(createRuntime === undefined ? {} : { createRuntime }),
  };
}

/**
 * @internal Every scenario runs against one policy, named `label` in the report; a policy-layer
 * scenario on actions it never names is marked not applicable.
 */
export function singlePolicyEnvironment(policy: PolicyEvaluator, label: string): AttackEnvironment {
  const named = namedActions(policy);
  return {
    policyFor: () => policy,
    policyLabel: () => label,
    applies: (scenario) => appliesTo(scenario, named),
  };
}

type Settled =
  | { readonly kind: 'returned'; readonly value: AttackBlocked | undefined }
  | { readonly kind: 'threw'; readonly error: unknown }
  | { readonly kind: 'hung' };

async function settle(run: () => Promise<AttackBlocked | undefined>): Promise<Settled> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<Settled>((resolve) => {
    // Kept referenced on purpose: handlers and the runtime unref their own timers, so without this
    // one a process whose only pending work is an escalation timeout would exit mid-battery.
    timer = setTimeout(() => resolve({ kind: 'hung' }), SCENARIO_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      run().then(
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

/**
 * @internal Checks, before anything runs, that the battery can run every row: each `plan` row's
 * plan can be made, and for `calls` rows the runtime has `call` (probed on a runtime that runs
 * nothing).
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) naming the first row it cannot run.
 */
export function checkScenarios(scenarios: readonly AttackScenario[], environment: AttackEnvironment): void {
  for (const scenario of scenarios) {
    if (!('steps' in scenario)) continue;
    if (scenario.mode === 'plan') {
      planOfScenario(scenario);
      continue;
    }
    const probe = (environment.createRuntime ?? createRuntime)({
      tenant: ATTACK_TENANT,
      policy: environment.policyFor(scenario.target),
      authority: new AuthorityManager({ tenant: ATTACK_TENANT }),
    });
    callsOf(probe, scenario);
  }
}

/** @internal Runs one scenario and judges it. */
export async function runScenario(
  scenario: AttackScenario,
  environment: AttackEnvironment,
  kinds: (target: ExamplePolicyName) => RuleKinds,
): Promise<AttackResult> {
  const trace = createTrace();
  const context = createContext(scenario, environment, trace, kinds(scenario.target));
  const settled = await settle(() =>
    'steps' in scenario ? runSteps(scenario, context) : scenario.run(context),
  );
  const auditProblem = await cleanUp(trace);
  const base = {
    id: scenario.id,
    family: scenario.family,
    layer: scenario.layer,
    policy: environment.policyLabel(scenario.target),
    title: scenario.title,
    applicable: environment.applies?.(scenario) ?? true,
  };
  const ran = trace.harmful.filter((spy) => spy.calls.length > 0);
  if (ran.length > 0) {
    const names = ran.map((spy) => `${spy.name} (${spy.calls.length}x)`).join(', ');
    const allowed = permittingRules(
      trace.sinks,
      ran.map((spy) => spy.name),
    );
    const because =
      allowed.rules.length === 0
        ? ''
        : `; allowed by ${allowed.rules.join(', ')}${allowed.reason === undefined ? '' : ` (${allowed.reason})`}`;
    return {
      ...base,
      verdict: 'SUCCEEDED',
      mechanism: 'none',
      detail: `the harmful tool ran: ${names}${because}`,
      ...(allowed.rules.length === 0 ? {} : { allowedBy: allowed.rules }),
    };
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

/**
 * @internal Runs `scenarios` one after another against `environment`.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) for a row the battery cannot run.
 */
export async function runAttacks(
  scenarios: readonly AttackScenario[],
  environment: AttackEnvironment,
  label: string,
): Promise<AttackReport> {
  const kindsCache = new Map<ExamplePolicyName, RuleKinds>();
  const kinds = (target: ExamplePolicyName): RuleKinds => {
    let found = kindsCache.get(target);
    if (found === undefined) {
      found = ruleKindsOf(environment.policyFor(target));
      kindsCache.set(target, found);
    }
    return found;
  };
  checkScenarios(scenarios, environment);
  const results: AttackResult[] = [];
  for (const scenario of scenarios) results.push(await runScenario(scenario, environment, kinds));
  const succeeded = results.filter((result) => result.verdict === 'SUCCEEDED').length;
  return {
    ok: succeeded === 0,
    policy: label,
    total: results.length,
    blocked: results.length - succeeded,
    succeeded,
    notApplicable: results.filter((result) => !result.applicable).length,
    scenarios: results,
  };
}
