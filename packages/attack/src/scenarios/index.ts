import type { AttackScenario } from '../types.js';
import { BUDGET_SCENARIOS } from './budget.js';
import {
  CALLS_BUDGET_SCENARIOS,
  CALLS_CONFUSED_DEPUTY_SCENARIOS,
  CALLS_CROSS_TOOL_SCENARIOS,
  CALLS_INJECTION_SCENARIOS,
  CALLS_SMUGGLING_SCENARIOS,
} from './calls-policy.js';
import { CALLS_REPLAY_SCENARIOS } from './calls-replay.js';
import {
  CALLS_FAIL_OPEN_SCENARIOS,
  CALLS_LINEAGE_BUDGET_SCENARIOS,
  CALLS_LINEAGE_TRANSITION_SCENARIOS,
  CALLS_MUTATION_SCENARIOS,
  CALLS_RUNTIME_CONFUSION_SCENARIOS,
  CALLS_TOOL_ALIAS_SCENARIOS,
} from './calls-runtime.js';
import { CONFUSED_DEPUTY_SCENARIOS } from './confused-deputy.js';
import { CROSS_TOOL_SCENARIOS } from './cross-tool.js';
import { FAIL_OPEN_SCENARIOS } from './fail-open.js';
import { FLOODING_SCENARIOS } from './flooding.js';
import { INJECTION_SCENARIOS } from './injection.js';
import { PLAN_MUTATION_SCENARIOS } from './plan-mutation.js';
import { REPLAY_SCENARIOS } from './replay.js';
import { RUNTIME_CONFUSION_SCENARIOS } from './runtime-confusion.js';
import { SMUGGLING_SCENARIOS } from './smuggling.js';

/**
 * Every scenario of the battery, grouped by family in report order (each family's plan-mode rows,
 * then its calls-mode rows); each is frozen.
 */
export const ATTACK_SCENARIOS: readonly AttackScenario[] = Object.freeze([
  ...INJECTION_SCENARIOS,
  ...CALLS_INJECTION_SCENARIOS,
  ...CONFUSED_DEPUTY_SCENARIOS,
  ...CALLS_CONFUSED_DEPUTY_SCENARIOS,
  ...CALLS_TOOL_ALIAS_SCENARIOS,
  ...CROSS_TOOL_SCENARIOS,
  ...CALLS_CROSS_TOOL_SCENARIOS,
  ...CALLS_LINEAGE_TRANSITION_SCENARIOS,
  ...SMUGGLING_SCENARIOS,
  ...CALLS_SMUGGLING_SCENARIOS,
  ...REPLAY_SCENARIOS,
  ...CALLS_REPLAY_SCENARIOS,
  ...RUNTIME_CONFUSION_SCENARIOS,
  ...CALLS_RUNTIME_CONFUSION_SCENARIOS,
  ...PLAN_MUTATION_SCENARIOS,
  ...CALLS_MUTATION_SCENARIOS,
  ...BUDGET_SCENARIOS,
  ...CALLS_BUDGET_SCENARIOS,
  ...CALLS_LINEAGE_BUDGET_SCENARIOS,
  ...FLOODING_SCENARIOS,
  ...FAIL_OPEN_SCENARIOS,
  ...CALLS_FAIL_OPEN_SCENARIOS,
]);
