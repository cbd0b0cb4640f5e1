import { ConfigurationError, type PolicyEvaluator } from '@ape/core';
import { exampleEnvironment, runAttacks, singlePolicyEnvironment } from './battery.js';
import { loadExamplePolicies } from './example-policies.js';
import { ATTACK_SCENARIOS } from './scenarios/index.js';
import type { AttackReport, AttackScenario } from './types.js';

/** What every run of {@link runAttackBattery} may set. */
interface RunOptions {
  /** The scenarios to run, in order; default {@link ATTACK_SCENARIOS}. */
  readonly scenarios?: readonly AttackScenario[];
  /** How the report names the run (`report.policy`); see each form for the default. */
  readonly label?: string;
}

/**
 * Every scenario runs against the example policy it targets, read from `policyDirectory`
 * (`<name>.yaml` for each of {@link EXAMPLE_POLICY_NAMES}; `@ape/reference-agent`'s
 * `shippedPoliciesDirectory()` is one). The label defaults to `shipped`, and each result names
 * its target policy.
 */
export interface ExamplePoliciesRunOptions extends RunOptions {
  readonly policyDirectory: string;
  readonly policy?: undefined;
}

/**
 * Every scenario runs against `policy` (your own, compiled with `loadPolicy`). The label, which
 * each result repeats, defaults to the policy's digest.
 */
export interface SinglePolicyRunOptions extends RunOptions {
  readonly policy: PolicyEvaluator;
  readonly policyDirectory?: undefined;
}

/** Options of {@link runAttackBattery}: the example policies from a directory, or one policy. */
export type RunAttackBatteryOptions = ExamplePoliciesRunOptions | SinglePolicyRunOptions;

function isPolicy(value: unknown): value is PolicyEvaluator {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { evaluate?: unknown }).evaluate === 'function' &&
    typeof (value as { mayPermit?: unknown }).mayPermit === 'function'
  );
}

/**
 * Runs the attack battery against a real runtime (`createRuntime` with an `AuthorityManager`, a
 * hash-chained in-memory audit sink, a deny-all escalation handler unless a scenario installs
 * another, and a fake clock), one scenario after another, and resolves to the report: each
 * scenario BLOCKED with the mechanism that stopped it, or SUCCEEDED with what got through.
 * `report.ok` is false when any attack succeeded — that is a finding, not an error.
 *
 * Policies are read when the run starts (never when this module loads) and all of them before
 * any scenario runs. A run takes a few seconds: some scenarios wait for escalation timeouts in
 * real time.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) when the options give neither or both of `policy`
 *   and `policyDirectory`, `scenarios` is not an array, or a scenario is a row the battery cannot
 *   run (a `calls` row on an `@ape/core` whose runtime has no `call`).
 * @throws PolicyError (`POLICY_INVALID`) naming the file when an example policy in
 *   `policyDirectory` is missing or invalid.
 */
export async function runAttackBattery(options: RunAttackBatteryOptions): Promise<AttackReport> {
  const { policy, policyDirectory } = options as { policy?: unknown; policyDirectory?: unknown };
  const scenarios = options.scenarios ?? ATTACK_SCENARIOS;
  if (!Array.isArray(scenarios)) {
    throw new ConfigurationError('runAttackBattery: scenarios must be an array of attack scenarios.', {
      field: 'scenarios',
    });
  }
  if (policy !== undefined && policyDirectory === undefined) {
    if (!isPolicy(policy)) {
      throw new ConfigurationError(
        'runAttackBattery: policy must be a policy evaluator (loadPolicy of @ape/policy returns one).',
        { field: 'policy' },
      );
    }
    const label = options.label ?? policy.digest;
    return runAttacks(scenarios, singlePolicyEnvironment(policy, label), label);
  }
  if (policy === undefined && typeof policyDirectory === 'string') {
    const environment = exampleEnvironment(loadExamplePolicies(policyDirectory));
    return runAttacks(scenarios, environment, options.label ?? 'shipped');
  }
  throw new ConfigurationError(
    'runAttackBattery: give exactly one of policy (run every scenario against it) or policyDirectory (a directory of the example policies).',
    { field: policy === undefined ? 'policyDirectory' : 'policy' },
  );
}
