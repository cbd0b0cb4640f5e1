import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { ajv2020 } from './ajv-class.js';
import actionSchema from '../schemas/action.json';
import intentSchema from '../schemas/intent.json';
import planSchema from '../schemas/plan.json';
import { canonicalJson } from './canonical-json.js';
import { ApeError, messageOf } from './errors.js';

/** One problem found while validating a document: where (a JSON path such as `$.steps[2].action_id`) and what. */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

/** The result of a validation: a value on success, every problem found otherwise. */
export type ValidationResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly errors: readonly ValidationIssue[] };

/** The JSON Schemas of core, as objects (also published as `@ape/core/schemas/*.json`). */
export const schemas = Object.freeze({ intent: intentSchema, plan: planSchema, action: actionSchema });

let compiled: { intent: ValidateFunction; plan: ValidateFunction; action: ValidateFunction } | undefined;

/** @internal The compiled core validators, built once on first use. */
export function coreValidators(): {
  intent: ValidateFunction;
  plan: ValidateFunction;
  action: ValidateFunction;
} {
  if (compiled === undefined) {
    const ajv = new (ajv2020())({ allErrors: true, strict: true, allowUnionTypes: true });
    ajv.addSchema(intentSchema);
    ajv.addSchema(planSchema);
    compiled = {
      intent: ajv.getSchema(intentSchema.$id)!,
      // Bare arrays are wrapped as { steps } before validation, so errors never mention the other branch.
      plan: ajv.compile({
        type: 'object',
        additionalProperties: false,
        required: ['steps'],
        properties: { steps: { $ref: `${planSchema.$id}#/$defs/steps` } },
      }),
      action: ajv.compile(actionSchema),
    };
  }
  return compiled;
}

/** Converts a JSON Pointer (`/steps/2/action_id`) into a JSON path (`$.steps[2].action_id`). */
export function pointerToPath(pointer: string): string {
  if (pointer === '') return '$';
  let path = '$';
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(segment)
      ? `[${segment}]`
      : /^[A-Za-z_$][\w$]*$/.test(segment)
        ? `.${segment}`
        : `[${JSON.stringify(segment)}]`;
  }
  return path;
}

/** Turns ajv errors into {@link ValidationIssue}s with JSON paths and plain-English messages. */
export function toIssues(errors: readonly ErrorObject[] | null | undefined): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors ?? []) {
    let path = pointerToPath(error.instancePath);
    let message = error.message ?? 'is invalid';
    if (error.keyword === 'additionalProperties') {
      const key = String((error.params as { additionalProperty?: unknown }).additionalProperty);
      path = pointerToPath(`${error.instancePath}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
      message = `unknown key "${key}"`;
    } else if (error.keyword === 'required') {
      const key = String((error.params as { missingProperty?: unknown }).missingProperty);
      message = `missing required field "${key}"`;
    } else if (error.keyword === 'oneOf' || error.keyword === 'if') {
      continue;
    }
    const text = `${path}: ${message}`;
    if (!seen.has(text)) {
      seen.add(text);
      issues.push({ path, message });
    }
  }
  return issues;
}

/** Formats issues as one line each: `$.path: message`. */
export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
}

/**
 * A plain-JSON copy of a document a caller handed in, with its canonical JSON `text` (the copy goes
 * through it, so the caller's object is never kept, frozen or read twice), or the issue that stops
 * it: a value that is not plain JSON, at its path.
 */
export function plainJsonCopy(
  input: unknown,
): ValidationResult<{ readonly text: string; readonly copy: unknown }> {
  let text: string;
  try {
    text = canonicalJson(input);
  } catch (error) {
    const path = ApeError.isInstance(error) ? String(error.details['path'] ?? '$') : '$';
    return { ok: false, errors: [{ path, message: messageOf(error) }] };
  }
  return { ok: true, value: { text, copy: JSON.parse(text) } };
}
