import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { FindingSink } from './finding-sink.js';
import { childPath, pointerToPath } from './findings.js';
import { policySchema } from './schema.js';

let documentValidator: ValidateFunction | undefined;

function validateDocumentShape(document: unknown): readonly ErrorObject[] {
  if (documentValidator === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    documentValidator = ajv.compile(policySchema);
  }
  return documentValidator(document) ? [] : (documentValidator.errors ?? []);
}

function schemaMessage(error: ErrorObject, path: string): string {
  if (path === '$.default' && error.keyword === 'const') {
    return 'only "deny" is accepted: a policy cannot turn default-deny off';
  }
  if (path === '$.version' && error.keyword === 'const') return 'only version 1 is supported';
  if (error.keyword === 'enum') {
    const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues ?? [];
    return `must be one of ${allowed.map((value) => JSON.stringify(value)).join(', ')}`;
  }
  if (error.keyword === 'required') {
    return `missing required field "${String((error.params as { missingProperty?: unknown }).missingProperty)}"`;
  }
  if (error.keyword === 'pattern' && path.endsWith('.window')) {
    return 'must be a duration: a whole number followed by s, m, h or d, such as 30s, 1m, 1h or 1d';
  }
  if (error.keyword === 'pattern')
    return `${error.message ?? 'does not match its pattern'} (not a valid id or action pattern)`;
  return error.message ?? `fails ${error.keyword}`;
}

/**
 * @internal Checks a parsed document against the policy schema (`schema/policy-v1.json`) and adds
 * one finding per problem: `UNKNOWN_KEY` at the key, `SCHEMA` otherwise. Returns whether the shape
 * is valid (nothing else may read the document when it is not).
 */
export function checkShape(document: unknown, sink: FindingSink): boolean {
  const errors = validateDocumentShape(document);
  for (const error of errors) {
    const path = pointerToPath(error.instancePath);
    if (error.keyword === 'additionalProperties') {
      const key = String((error.params as { additionalProperty?: unknown }).additionalProperty);
      sink.add('error', 'UNKNOWN_KEY', childPath(path, key), `unknown key "${key}"`, undefined, true);
    } else if (error.keyword === 'propertyNames') {
      const key = String((error.params as { propertyName?: unknown }).propertyName);
      sink.add(
        'error',
        'SCHEMA',
        childPath(path, key),
        `"${key}" is not a valid id or action pattern`,
        undefined,
        true,
      );
    } else if (error.keyword !== 'pattern' || !error.schemaPath.includes('propertyNames')) {
      sink.add('error', 'SCHEMA', path, schemaMessage(error, path));
    }
  }
  return errors.length === 0;
}
