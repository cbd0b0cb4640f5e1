import { canonicalJson, sha256 } from './canonical-json.js';
import { type DeepReadonly, deepFreeze } from './deep-freeze.js';
import { PlanError } from './errors.js';
import type { ValidatedIntent } from './intent.js';
import {
  coreValidators,
  formatIssues,
  plainJsonCopy,
  toIssues,
  type ValidationIssue,
  type ValidationResult,
} from './validation.js';

/** One step of a plan. When `args` is present the step may run only with exactly those arguments. */
export interface PlanStep {
  action_id: string;
  tool_id?: string;
  args?: Record<string, unknown>;
  description?: string;
}

/** A plan: an ordered, linear list of steps. A bare array of steps is accepted as input too. */
export interface Plan {
  steps: PlanStep[];
}

/** A validated, deep-frozen plan and its hash (sha256 of the canonical `{ steps }`). */
export interface ValidatedPlan {
  readonly value: DeepReadonly<Plan>;
  readonly steps: DeepReadonly<PlanStep[]>;
  readonly hash: string;
}

/**
 * Validates a plan against the plan schema and, when given, the intent: every step's action must be
 * in `allowed_actions` and not in `forbidden_actions`. Each problem names the step index. Never
 * throws; the caller's object is copied, never kept or frozen.
 */
export function validatePlan(input: unknown, intent?: ValidatedIntent): ValidationResult<ValidatedPlan> {
  const plain = plainJsonCopy(input);
  if (!plain.ok) return plain;
  const parsed = plain.value.copy;
  const copy: unknown = Array.isArray(parsed) ? { steps: parsed } : parsed;
  const validate = coreValidators().plan;
  if (!validate(copy)) return { ok: false, errors: toIssues(validate.errors) };
  const plan = copy as Plan;
  if (intent !== undefined) {
    const allowed = new Set(intent.value.allowed_actions);
    const forbidden = new Set(intent.value.forbidden_actions);
    const errors: ValidationIssue[] = [];
    plan.steps.forEach((step, index) => {
      const path = `$.steps[${index}].action_id`;
      if (forbidden.has(step.action_id)) {
        errors.push({ path, message: `step ${index}: "${step.action_id}" is forbidden by the intent` });
      } else if (!allowed.has(step.action_id)) {
        errors.push({
          path,
          message: `step ${index}: "${step.action_id}" is not in the intent's allowed_actions`,
        });
      }
    });
    if (errors.length > 0) return { ok: false, errors };
  }
  const frozen = deepFreeze(plan);
  return {
    ok: true,
    value: Object.freeze({ value: frozen, steps: frozen.steps, hash: sha256(canonicalJson(plan)) }),
  };
}

/**
 * Validates a plan (see {@link validatePlan}) and returns its frozen copy and hash.
 * @throws PlanError (`PLAN_INVALID`) listing every problem; `details.step` is the first bad step index.
 */
export function createPlan(input: unknown, intent?: ValidatedIntent): ValidatedPlan {
  const result = validatePlan(input, intent);
  if (!result.ok) {
    const step = /^\$\.steps\[(\d+)\]/.exec(result.errors[0]?.path ?? '')?.[1];
    throw new PlanError(`Invalid plan: ${formatIssues(result.errors)}.`, {
      errors: result.errors,
      ...(step === undefined ? {} : { step: Number(step) }),
    });
  }
  return result.value;
}
