/**
 * `@ape/attack`: the attack battery as a library. `runAttackBattery` runs 150 attack scenarios in
 * ten families against a real APE runtime and reports each BLOCKED (with the check that stopped
 * it) or SUCCEEDED; `ape attack` is a thin shell over it.
 *
 * @packageDocumentation
 */
export type { ExamplePolicyName } from './example-policies.js';
export { EXAMPLE_POLICY_NAMES } from './example-policies.js';
export type {
  ExamplePoliciesRunOptions,
  RunAttackBatteryOptions,
  SinglePolicyRunOptions,
} from './run-attack-battery.js';
export { runAttackBattery } from './run-attack-battery.js';
export { ATTACK_SCENARIOS } from './scenarios/index.js';
export type {
  AttackBlocked,
  AttackClock,
  AttackContext,
  AttackFamily,
  AttackLayer,
  AttackMode,
  AttackReport,
  AttackResult,
  AttackScenario,
  AttackSession,
  AttackStep,
  AttackVerdict,
  ProcedureScenario,
  ScenarioIdentity,
  SessionOptions,
  SpyTool,
  StepArguments,
  StepsScenario,
} from './types.js';
export { ATTACK_FAMILIES } from './types.js';
