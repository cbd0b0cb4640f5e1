import { formatIssues, toIssues, coreValidators, type ValidationResult } from './validation.js';
import intentSchema from '../schemas/intent.json';
import { ActionError } from './errors.js';

/** The one action-id pattern: `@ape/core/schemas/intent.json#/$defs/actionId`, compiled once. */
const ACTION_ID = new RegExp(intentSchema.$defs.actionId.pattern);

/**
 * Whether `text` is a valid action id (`^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$`, the schemas'
 * `actionId`): the one check every package uses for tool names, intent entries and claims.
 */
export function isActionId(text: unknown): text is string {
  return typeof text === 'string' && ACTION_ID.test(text);
}

/** One tool call as it crosses the gate (the normative architecture's Action). */
export interface Action {
  action_id: string;
  tool_id?: string;
  args: Record<string, unknown>;
  intent_version: string;
  plan_hash: string;
  step_index: number;
}

/** Validates an action description against `@ape/core/schemas/action.json`. Never throws. */
export function validateAction(input: unknown): ValidationResult<Action> {
  const validate = coreValidators().action;
  if (!validate(input)) return { ok: false, errors: toIssues(validate.errors) };
  return { ok: true, value: input as Action };
}

/**
 * Validates an action description and returns it.
 * @throws ActionError (`ACTION_INVALID`) listing every problem.
 */
export function assertAction(input: unknown): Action {
  const result = validateAction(input);
  if (!result.ok)
    throw new ActionError(`Invalid action: ${formatIssues(result.errors)}.`, { errors: result.errors });
  return result.value;
}
