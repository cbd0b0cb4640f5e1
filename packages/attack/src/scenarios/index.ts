import type { AttackScenario } from '../types.js';
import { BUDGET_SCENARIOS } from './budget.js';
import { CONFUSED_DEPUTY_SCENARIOS } from './confused-deputy.js';
import { CROSS_TOOL_SCENARIOS } from './cross-tool.js';
import { FAIL_OPEN_SCENARIOS } from './fail-open.js';
import { FLOODING_SCENARIOS } from './flooding.js';
import { INJECTION_SCENARIOS } from './injection.js';
import { PLAN_MUTATION_SCENARIOS } from './plan-mutation.js';
import { REPLAY_SCENARIOS } from './replay.js';
import { RUNTIME_CONFUSION_SCENARIOS } from './runtime-confusion.js';
import { SMUGGLING_SCENARIOS } from './smuggling.js';

/** Every scenario of the battery (90), grouped by family in report order; each is frozen. */
export const ATTACK_SCENARIOS: readonly AttackScenario[] = Object.freeze([
  ...INJECTION_SCENARIOS,
  ...CONFUSED_DEPUTY_SCENARIOS,
  ...CROSS_TOOL_SCENARIOS,
  ...SMUGGLING_SCENARIOS,
  ...REPLAY_SCENARIOS,
  ...RUNTIME_CONFUSION_SCENARIOS,
  ...PLAN_MUTATION_SCENARIOS,
  ...BUDGET_SCENARIOS,
  ...FLOODING_SCENARIOS,
  ...FAIL_OPEN_SCENARIOS,
]);
