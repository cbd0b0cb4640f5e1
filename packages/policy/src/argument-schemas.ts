import type { Ajv2020, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { ajv2020 } from './lazy-modules.js';
import type { PolicyLayer, RuleDefinition } from './definition.js';
import type { FindingSink } from './finding-sink.js';
import { childPath, pointerToPath } from './findings.js';
import {
  type GeneratedValidator,
  validate_x_ape_path,
  validate_x_ape_provenance,
  validate_x_ape_url,
  validateDraft2020Schema,
} from './generated/argument-schema-meta.js';
import { ANNOTATION_KEYWORDS, addApeKeywords, PATH_KEYWORD, URL_KEYWORD } from './keywords.js';
import { addProvenanceKeyword, PROVENANCE_KEYWORD, requireLabelledProperties } from './provenance-keyword.js';
import { linearRegExp, unsafePatternReason } from './regex-safety.js';
import { messageOf } from '@ape/core';
import { describeValue, plainSchemaMessage } from './schema-messages.js';
import { didYouMean } from './suggest.js';

type Json = Record<string, unknown>;

/** One problem of an argument schema, at the JSON path of the offending node. */
interface SchemaProblem {
  readonly code: 'UNSAFE_PATTERN' | 'ARGS_SCHEMA';
  readonly path: string;
  readonly message: string;
  /** Whether the problem is the key itself (an unknown keyword), not its value. */
  readonly atKey: boolean;
}

/**
 * @internal Compiles every rule's `when.args` once. Before compiling, every problem of every schema
 * is collected with its own path (so the finding points at the bad node, not at `when.args`):
 * `UNSAFE_PATTERN` for a regular expression that could backtrack badly, `ARGS_SCHEMA` for an
 * unknown keyword (with the closest known one as a hint) or a keyword whose value is not valid.
 * A schema with a problem is not compiled; anything ajv still refuses is `ARGS_SCHEMA` at `when.args`.
 */
export function compileArgumentSchemas(
  layers: readonly PolicyLayer[],
  sink: FindingSink,
): Map<RuleDefinition, ValidateFunction> {
  let ajv: Ajv2020 | undefined;
  const validators = new Map<RuleDefinition, ValidateFunction>();
  for (const layer of layers) {
    for (const rule of layer.rules) {
      const args: unknown = rule.when?.args;
      // Not a mapping: the policy schema reported it already.
      if (typeof args !== 'object' || args === null || Array.isArray(args)) continue;
      const argsPath = `${rule.source.path}.when.args`;
      // One ajv instance per policy, created only when some rule has an argument condition.
      ajv ??= createArgumentsAjv();
      const problems = findSchemaProblems(args as Json, argsPath, ajv);
      for (const problem of problems) {
        sink.add('error', problem.code, problem.path, problem.message, [rule.id], problem.atKey);
      }
      if (problems.length > 0) continue;
      try {
        validators.set(rule, ajv.compile(requireLabelledProperties(args as Json) as object));
      } catch (error) {
        const message = messageOf(error).replace(/^strict mode: /, '');
        const typed = STRICT_TYPES.exec(message);
        if (typed === null) {
          sink.add('error', 'ARGS_SCHEMA', argsPath, `this argument schema is not valid: ${message}`, [
            rule.id,
          ]);
        } else {
          const [, type, keyword, pointer] = typed;
          sink.add(
            'error',
            'ARGS_SCHEMA',
            joinPath(argsPath, decodeURIComponent(pointer ?? '')),
            `"${keyword}" only applies to ${TYPE_NAMES[type ?? ''] ?? type}: add "type: ${type}" to this schema`,
            [rule.id],
          );
        }
      }
    }
  }
  return validators;
}

/** ajv's strict-types complaint: a keyword of one type in a schema that does not say it has that type. */
const STRICT_TYPES = /^missing type "(\w+)" for keyword "([^"]+)" at "#([^"]*)"/;

const TYPE_NAMES: Readonly<Record<string, string>> = {
  object: 'objects',
  array: 'arrays',
  string: 'strings',
  number: 'numbers',
  integer: 'numbers',
};

function createArgumentsAjv(): Ajv2020 {
  const ajv = new (ajv2020())({
    strict: true,
    allErrors: false,
    allowUnionTypes: true,
    validateFormats: true,
    unicodeRegExp: true,
    // findSchemaProblems has checked each schema against the draft 2020-12 meta-schema and each
    // x-ape-* value against its options schema (with validators compiled at build time) before it
    // reaches `compile`, and the keywords carry no metaSchema: checking again here would compile
    // the meta-schema and the options schemas at every start.
    validateSchema: false,
    // The evaluator calls each validator with the request as `this`: x-ape-provenance reads its labels.
    passContext: true,
    // Every pattern runs on RE2: matching is linear in the argument's length (no ReDoS).
    code: { regExp: linearRegExp },
  });
  addApeKeywords(ajv);
  addProvenanceKeyword(ajv);
  return ajv;
}

const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

/**
 * Validators of the draft 2020-12 meta-schema and of the x-ape-* keywords' options, compiled at build
 * time (scripts/generate-validators.mjs) with every error, verbose, not strict.
 */
const KEYWORD_OPTION_VALIDATORS: ReadonlyMap<string, GeneratedValidator> = new Map([
  [PATH_KEYWORD, validate_x_ape_path],
  [URL_KEYWORD, validate_x_ape_url],
  [PROVENANCE_KEYWORD, validate_x_ape_provenance],
]);

/**
 * Checks a schema that names another meta-schema in `$schema` (rare): ajv, with the same options as
 * the generated validators, resolves it and fails the load when it does not know it.
 */
let metaAjv: Ajv2020 | undefined;

function getMetaAjv(): Ajv2020 {
  metaAjv ??= new (ajv2020())({ allErrors: true, verbose: true, strict: false, validateSchema: false });
  return metaAjv;
}

/** Every error of `schema` against its meta-schema: the precompiled draft 2020-12 one unless `$schema` names another. */
function metaSchemaErrors(schema: Json): readonly ErrorObject[] {
  if (!Object.hasOwn(schema, '$schema') || schema['$schema'] === DRAFT_2020_12) {
    return validateDraft2020Schema(schema) ? [] : (validateDraft2020Schema.errors ?? []);
  }
  const meta = getMetaAjv();
  return meta.validateSchema(schema) === true ? [] : (meta.errors ?? []);
}

/** Keywords whose value is a map of schemas, a schema, or a list of schemas. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
const SCHEMA_VALUES = new Set([
  'additionalProperties',
  'propertyNames',
  'items',
  'contains',
  'not',
  'if',
  'then',
  'else',
  'unevaluatedItems',
  'unevaluatedProperties',
  'contentSchema',
]);
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);

const JSON_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'];

function findSchemaProblems(schema: Json, path: string, ajv: Ajv2020): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const known = Object.keys(ajv.RULES.keywords);
  const pending: [unknown, string][] = [[schema, path]];
  while (pending.length > 0) {
    const [node, nodePath] = pending.pop()!;
    if (typeof node !== 'object' || node === null || Array.isArray(node)) continue;
    for (const key of Object.keys(node)) {
      const value = (node as Json)[key];
      const valuePath = childPath(nodePath, key);
      const definition = ajv.getKeyword(key);
      if (definition === false && !ANNOTATION_KEYWORDS.has(key)) {
        problems.push({
          code: 'ARGS_SCHEMA',
          path: valuePath,
          message: `unknown keyword "${key}" in an argument schema${didYouMean(key, known)}`,
          atKey: true,
        });
        continue;
      }
      if (key === 'pattern' && typeof value === 'string') {
        const reason = unsafePatternReason(value);
        if (reason !== undefined)
          problems.push({
            code: 'UNSAFE_PATTERN',
            path: valuePath,
            message: `unsafe regular expression: ${reason}`,
            atKey: false,
          });
        continue;
      }
      if (key === 'patternProperties' && typeof value === 'object' && value !== null) {
        for (const property of Object.keys(value)) {
          const reason = unsafePatternReason(property);
          if (reason !== undefined) {
            problems.push({
              code: 'UNSAFE_PATTERN',
              path: childPath(valuePath, property),
              message: `unsafe regular expression: ${reason}`,
              atKey: true,
            });
          }
        }
      }
      const optionsValidator = KEYWORD_OPTION_VALIDATORS.get(key);
      if (optionsValidator !== undefined) {
        problems.push(...keywordValueProblems(key, optionsValidator, value, valuePath));
        continue;
      }
      if (SCHEMA_MAPS.has(key) && typeof value === 'object' && value !== null && !Array.isArray(value)) {
        for (const name of Object.keys(value))
          pending.push([(value as Json)[name], childPath(valuePath, name)]);
      } else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) {
        value.forEach((item, index) => {
          pending.push([item, childPath(valuePath, index)]);
        });
      } else if (SCHEMA_VALUES.has(key)) {
        pending.push([value, valuePath]);
      }
    }
  }
  if (problems.length > 0) return problems.sort(byPath);
  // The keywords are all known: check their values against the draft 2020-12 meta-schema.
  const errors = metaSchemaErrors(schema);
  if (errors.length > 0) problems.push(...metaSchemaProblems(errors, path));
  return problems;
}

function byPath(left: SchemaProblem, right: SchemaProblem): number {
  return left.path < right.path ? -1 : left.path > right.path ? 1 : 0;
}

function keywordValueProblems(
  keyword: string,
  validate: GeneratedValidator,
  value: unknown,
  path: string,
): SchemaProblem[] {
  if (validate(value) === true) return [];
  return (validate.errors ?? []).map((error) => {
    const errorPath = joinPath(path, error.instancePath);
    if (error.keyword === 'additionalProperties') {
      const key = String((error.params as { additionalProperty?: unknown }).additionalProperty);
      const allowed = Object.keys(
        (error.parentSchema as { properties?: Json } | undefined)?.properties ?? {},
      );
      return {
        code: 'ARGS_SCHEMA' as const,
        path: childPath(errorPath, key),
        message: `unknown option "${key}" of ${keyword}${didYouMean(key, allowed)}`,
        atKey: true,
      };
    }
    const message =
      error.keyword === 'pattern'
        ? `${describeValue(error.data)} is not accepted here`
        : plainSchemaMessage(error);
    return { code: 'ARGS_SCHEMA' as const, path: errorPath, message, atKey: false };
  });
}

/** One problem per bad node: the meta-schema's alternatives (`anyOf`) are summed up, not listed. */
function metaSchemaProblems(errors: readonly ErrorObject[], path: string): SchemaProblem[] {
  const byNode = new Map<string, ErrorObject[]>();
  for (const error of errors) {
    const list = byNode.get(error.instancePath) ?? [];
    list.push(error);
    byNode.set(error.instancePath, list);
  }
  const problems: SchemaProblem[] = [];
  for (const [pointer, list] of byNode) {
    const nodePath = joinPath(path, pointer);
    const keyword = pointer.slice(pointer.lastIndexOf('/') + 1);
    const data = list[0]!.data;
    let message: string;
    if (keyword === 'type' || /\/type\/\d+$/.test(pointer)) {
      const text = typeof data === 'string' ? JSON.stringify(data) : describeValue(data);
      const hint = typeof data === 'string' ? didYouMean(data, JSON_TYPES) : '';
      message = `${text} is not a JSON Schema type${hint} (types: ${JSON_TYPES.join(', ')})`;
    } else {
      const specific =
        list.find((error) => !['anyOf', 'oneOf', 'if', '$dynamicRef'].includes(error.keyword)) ?? list[0]!;
      message = `the value of "${keyword}" ${plainSchemaMessage(specific)}`;
    }
    problems.push({ code: 'ARGS_SCHEMA', path: nodePath, message, atKey: false });
  }
  return problems;
}

function joinPath(path: string, pointer: string): string {
  if (pointer === '') return path;
  return path + pointerToPath(pointer).slice(1);
}
