import { sha256 } from './canonical-json.js';
import { type DeepReadonly, deepFreeze } from './deep-freeze.js';
import { IntentError } from './errors.js';
import {
  coreValidators,
  formatIssues,
  plainJsonCopy,
  toIssues,
  type ValidationIssue,
  type ValidationResult,
} from './validation.js';

/** An intent as written by the host or the user: what one agent session may do. */
export interface Intent {
  allowed_actions: string[];
  forbidden_actions: string[];
  escalation_required?: string[];
  scope: string;
  description?: string;
}

/** A validated, deep-frozen copy of an intent and its version (sha256 of its canonical JSON). */
export interface ValidatedIntent {
  readonly value: DeepReadonly<Intent>;
  readonly version: string;
}

/**
 * Validates an intent against the intent schema and its own consistency (no action both allowed
 * and forbidden). Never throws; the caller's object is copied, never kept or frozen.
 */
export function validateIntent(input: unknown): ValidationResult<ValidatedIntent> {
  const plain = plainJsonCopy(input);
  if (!plain.ok) return plain;
  const { text, copy } = plain.value;
  const validate = coreValidators().intent;
  if (!validate(copy)) return { ok: false, errors: toIssues(validate.errors) };
  const intent = copy as Intent;
  const errors: ValidationIssue[] = [];
  const forbidden = new Set(intent.forbidden_actions);
  intent.allowed_actions.forEach((action, index) => {
    if (forbidden.has(action)) {
      errors.push({
        path: `$.allowed_actions[${index}]`,
        message: `"${action}" is both allowed and forbidden`,
      });
    }
  });
  (intent.escalation_required ?? []).forEach((action, index) => {
    if (forbidden.has(action)) {
      errors.push({
        path: `$.escalation_required[${index}]`,
        message: `"${action}" is both forbidden and escalation-required`,
      });
    }
  });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: Object.freeze({ value: deepFreeze(intent), version: sha256(text) }) };
}

/**
 * Validates an intent and returns its frozen copy and version.
 * @throws IntentError (`INTENT_INVALID`) listing every problem with its JSON path.
 */
export function createIntent(input: unknown): ValidatedIntent {
  const result = validateIntent(input);
  if (!result.ok) {
    throw new IntentError(`Invalid intent: ${formatIssues(result.errors)}.`, { errors: result.errors });
  }
  return result.value;
}
