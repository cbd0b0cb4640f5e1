import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { PolicyLayer, RuleDefinition } from './definition.js';
import type { FindingSink } from './finding-sink.js';
import { childPath } from './findings.js';
import { addApeKeywords } from './keywords.js';
import { addProvenanceKeyword, requireLabelledProperties } from './provenance-keyword.js';
import { linearRegExp, unsafePatternReason } from './regex-safety.js';

type Json = Record<string, unknown>;

/**
 * @internal Compiles every rule's `when.args` once: `UNSAFE_PATTERN` for a regular expression that
 * could backtrack badly (the schema is then not compiled), `ARGS_SCHEMA` for a schema ajv refuses.
 */
export function compileArgumentSchemas(
  layers: readonly PolicyLayer[],
  sink: FindingSink,
): Map<RuleDefinition, ValidateFunction> {
  let ajv: Ajv2020 | undefined;
  const validators = new Map<RuleDefinition, ValidateFunction>();
  for (const layer of layers) {
    for (const rule of layer.rules) {
      const args = rule.when?.args;
      if (args === undefined) continue;
      const argsPath = `${rule.source.path}.when.args`;
      const unsafe = findUnsafePatterns(args, argsPath);
      for (const [path, reason] of unsafe) {
        sink.add('error', 'UNSAFE_PATTERN', path, `unsafe regular expression: ${reason}`, [rule.id]);
      }
      if (unsafe.length > 0) continue;
      try {
        // One ajv instance per policy, created only when some rule has an argument condition.
        ajv ??= createArgumentsAjv();
        validators.set(rule, ajv.compile(requireLabelledProperties(args) as object));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        sink.add('error', 'ARGS_SCHEMA', argsPath, `invalid argument schema: ${message}`, [rule.id]);
      }
    }
  }
  return validators;
}

function createArgumentsAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    strict: true,
    allErrors: false,
    allowUnionTypes: true,
    validateFormats: true,
    unicodeRegExp: true,
    // The evaluator calls each validator with the request as `this`: x-ape-provenance reads its labels.
    passContext: true,
    // Every pattern runs on RE2: matching is linear in the argument's length (no ReDoS).
    code: { regExp: linearRegExp },
  });
  addApeKeywords(ajv);
  addProvenanceKeyword(ajv);
  return ajv;
}

const SKIPPED_SCHEMA_KEYS = new Set(['const', 'enum', 'default', 'examples']);

function findUnsafePatterns(schema: unknown, path: string): [string, string][] {
  const found: [string, string][] = [];
  const pending: [unknown, string][] = [[schema, path]];
  while (pending.length > 0) {
    const [node, nodePath] = pending.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (Array.isArray(node)) {
      node.forEach((item, index) => {
        pending.push([item, childPath(nodePath, index)]);
      });
      continue;
    }
    for (const key of Object.keys(node)) {
      const value = (node as Json)[key];
      const valuePath = childPath(nodePath, key);
      if (key === 'pattern' && typeof value === 'string') {
        const reason = unsafePatternReason(value);
        if (reason !== undefined) found.push([valuePath, reason]);
        continue;
      }
      if (key === 'patternProperties' && typeof value === 'object' && value !== null) {
        for (const property of Object.keys(value)) {
          const reason = unsafePatternReason(property);
          if (reason !== undefined) found.push([childPath(valuePath, property), reason]);
        }
      }
      if (!SKIPPED_SCHEMA_KEYS.has(key)) pending.push([value, valuePath]);
    }
  }
  return found;
}
