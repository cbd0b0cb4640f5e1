import { formatIssues, toIssues, coreValidators, type ValidationResult } from './validation.js';
import { ActionError } from './errors.js';

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
