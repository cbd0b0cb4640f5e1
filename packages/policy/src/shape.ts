import type { ErrorObject } from 'ajv/dist/2020.js';
import type { FindingSink } from './finding-sink.js';
import { childPath, pointerToPath } from './findings.js';
import { validatePolicyDocument } from './generated/policy-document.js';
import { allowedKeys, describeValue, plainSchemaMessage } from './schema-messages.js';
import { didYouMean } from './suggest.js';

/**
 * The policy schema's validator was compiled at build time (scripts/generate-validators.mjs, with
 * `allErrors`, `strict` and `verbose`: each error keeps its data and parent schema, for plain
 * messages and did-you-mean hints), so loading a policy compiles no schema of its own.
 */
function validateDocumentShape(document: unknown): readonly ErrorObject[] {
  return validatePolicyDocument(document) ? [] : (validatePolicyDocument.errors ?? []);
}

const ID_RULES =
  'letters, digits, "_", ".", ":" and "-", starting with a letter, digit or "_", at most 128 characters';

/** What a text that fails a `pattern` of the policy schema should have been, by the `$defs` entry. */
function patternMessage(error: ErrorObject, path: string): string {
  const text = describeValue(error.data);
  if (path.endsWith('.window')) {
    return `${text} is not a duration: write a whole number followed by s, m, h or d, such as 30s, 1m, 1h or 1d`;
  }
  if (error.schemaPath.includes('actionPattern')) {
    return `${text} is not a valid action id or glob: use ${ID_RULES}; "*" matches within one "."-separated part, "**" across parts, "***" is not allowed`;
  }
  if (error.schemaPath.includes('actionId')) return `${text} is not a valid action id: use ${ID_RULES}`;
  if (error.schemaPath.includes('ruleId')) return `${text} is not a valid rule id: use ${ID_RULES}`;
  if (error.schemaPath.includes('tenantId')) return `${text} is not a valid tenant id: use ${ID_RULES}`;
  return `${text} is not a valid name: use ${ID_RULES}`;
}

function schemaMessage(error: ErrorObject, path: string): string {
  if (path === '$.default' && error.keyword === 'const') {
    return 'only "deny" is accepted: a policy cannot turn default-deny off';
  }
  if (path === '$.version' && error.keyword === 'const') return 'only version 1 is supported';
  if (error.keyword === 'pattern') return patternMessage(error, path);
  return plainSchemaMessage(error);
}

/**
 * @internal Checks a parsed document against the policy schema (`schema/policy-v1.json`) and adds
 * one finding per problem, in plain words: `UNKNOWN_KEY` at the key (with the closest known key
 * as a hint), `SCHEMA` otherwise. Returns whether the shape is valid.
 */
export function checkShape(document: unknown, sink: FindingSink): boolean {
  const errors = validateDocumentShape(document);
  for (const error of errors) {
    const path = pointerToPath(error.instancePath);
    if (error.keyword === 'additionalProperties') {
      const key = String((error.params as { additionalProperty?: unknown }).additionalProperty);
      const known = allowedKeys(error);
      const list = known.length > 0 && known.length <= 12 ? ` (known keys: ${known.join(', ')})` : '';
      const hint = didYouMean(key, known);
      sink.add(
        'error',
        'UNKNOWN_KEY',
        childPath(path, key),
        `unknown key "${key}"${hint === '' ? list : hint}`,
        undefined,
        true,
      );
    } else if (error.keyword === 'propertyNames') {
      const key = String((error.params as { propertyName?: unknown }).propertyName);
      const what = path.endsWith('.tenants') ? 'tenant id' : 'action id or glob';
      sink.add(
        'error',
        'SCHEMA',
        childPath(path, key),
        `"${key}" is not a valid ${what}: use ${ID_RULES}`,
        undefined,
        true,
      );
    } else if (error.keyword !== 'pattern' || !error.schemaPath.includes('propertyNames')) {
      sink.add('error', 'SCHEMA', path, schemaMessage(error, path));
    }
  }
  return errors.length === 0;
}
