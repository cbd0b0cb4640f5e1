import type { ActionRequest, ProvenanceLabel } from '@ape/core';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { DataValidationCxt } from 'ajv/dist/types/index.js';

/**
 * Name of the per-argument provenance keyword: every labelled leaf at or below the property it sits
 * on carries one of the listed labels (`ActionRequest.argLabels`; a leaf the map does not name is
 * judged by the call's `provenance`). The property must be present: the compiler adds it to the
 * enclosing object's `required`.
 */
export const PROVENANCE_KEYWORD = 'x-ape-provenance';

/** @internal How a trace words a failed {@link PROVENANCE_KEYWORD}. */
export const PROVENANCE_FAILURE = `holds a value whose provenance the rule does not accept (${PROVENANCE_KEYWORD})`;

const LABEL_BITS: Readonly<Record<ProvenanceLabel, number>> = Object.freeze({
  SYSTEM_TRUSTED: 1,
  USER_TRUSTED: 2,
  EXTERNAL_UNTRUSTED: 4,
});

function labelBit(label: unknown): number {
  // Anything unknown is the least trusted label (fail closed).
  return label === 'SYSTEM_TRUSTED' ? 1 : label === 'USER_TRUSTED' ? 2 : 4;
}

const MAX_DEPTH = 256;

/** Leaves (strings, numbers, booleans, `null`) of `value`; `Infinity` past 256 levels. */
function countLeaves(value: unknown, depth: number): number {
  if (value === undefined) return 0;
  if (typeof value !== 'object' || value === null) return 1;
  if (depth > MAX_DEPTH) return Number.POSITIVE_INFINITY;
  let count = 0;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) count += countLeaves(value[index], depth + 1);
    return count;
  }
  for (const key in value) {
    if (Object.hasOwn(value, key)) count += countLeaves((value as Record<string, unknown>)[key], depth + 1);
  }
  return count;
}

/**
 * @internal Whether every leaf at or below `pointer` (holding `data`) carries a label in `mask`: the
 * map's labels for the pointers at or below it, and the request's `provenance` when some leaf there
 * has no entry (an unnamed leaf never gains trust). Fails closed on a missing or malformed request.
 * Allocates nothing: a leaf is one lookup; for an object or array the map is scanned and the
 * leaves counted.
 */
export function argumentLabelsHold(request: unknown, pointer: string, data: unknown, mask: number): boolean {
  if (typeof request !== 'object' || request === null) return false;
  const labels: unknown = (request as ActionRequest).argLabels;
  let named = 0;
  if (labels !== undefined) {
    if (typeof labels !== 'object' || labels === null) return false;
    if (typeof data !== 'object' || data === null) {
      // A leaf (the common case): one lookup. The runtime's map names leaves only.
      // Pointers start with "/" (or are ""): no key can be inherited from Object.prototype.
      const named: unknown = (labels as Record<string, unknown>)[pointer];
      const label: unknown = named === undefined ? (request as ActionRequest).provenance : named;
      return data === undefined || (labelBit(label) & mask) !== 0;
    }
    const length = pointer.length;
    for (const key in labels) {
      if (!Object.hasOwn(labels, key)) continue;
      if (key !== pointer && !(key.startsWith(pointer) && key.charCodeAt(length) === 47)) continue;
      if ((labelBit((labels as Record<string, unknown>)[key]) & mask) === 0) return false;
      named++;
    }
  }
  if (named >= countLeaves(data, 0)) return true;
  return (labelBit((request as ActionRequest).provenance) & mask) !== 0;
}

/**
 * @internal Registers {@link PROVENANCE_KEYWORD}; the ajv instance must pass the request as context.
 * Its labels are checked before compiling, as keywords.ts's `addApeKeywords` says.
 */
export function addProvenanceKeyword(ajv: Ajv2020): void {
  ajv.addKeyword({
    keyword: PROVENANCE_KEYWORD,
    schemaType: 'array',
    compile(schema: readonly ProvenanceLabel[]) {
      let mask = 0;
      for (const label of schema) mask |= LABEL_BITS[label];
      return function holds(this: unknown, data: unknown, context?: DataValidationCxt): boolean {
        return argumentLabelsHold(this, context?.instancePath ?? '', data, mask);
      };
    },
    errors: false,
  });
}

type Json = Record<string, unknown>;

const BRANCHES = ['allOf', 'anyOf', 'oneOf'] as const;

function carriesKeyword(schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return false;
  if (Object.hasOwn(schema, PROVENANCE_KEYWORD)) return true;
  for (const branch of BRANCHES) {
    const list = (schema as Json)[branch];
    if (Array.isArray(list) && list.some(carriesKeyword)) return true;
  }
  return false;
}

/**
 * @internal A copy of `schema` in which every property whose schema carries {@link PROVENANCE_KEYWORD}
 * (directly or in an `allOf`/`anyOf`/`oneOf` branch) is also `required` by its object schema: an
 * absent argument does not satisfy a provenance condition. `schema` itself is not changed.
 */
export function requireLabelledProperties(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(requireLabelledProperties);
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy: Json = {};
  for (const key of Object.keys(schema)) {
    const value = (schema as Json)[key];
    set(
      copy,
      key,
      DATA_KEYS.has(key) ? value : SCHEMA_MAPS.has(key) ? mapValues(value) : requireLabelledProperties(value),
    );
  }
  const properties = (schema as Json)['properties'];
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) return copy;
  const labelled = Object.keys(properties).filter((name) => carriesKeyword((properties as Json)[name]));
  if (labelled.length === 0) return copy;
  const required = Array.isArray(copy['required']) ? (copy['required'] as unknown[]) : [];
  set(copy, 'required', [...required, ...labelled.filter((name) => !required.includes(name))]);
  return copy;
}

/** Keywords whose value is data, not a schema. */
const DATA_KEYS = new Set(['const', 'enum', 'default', 'examples', 'required']);
/** Keywords whose value maps names to schemas (the names are data). */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);

function mapValues(map: unknown): unknown {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) return map;
  const copy: Json = {};
  for (const key of Object.keys(map)) set(copy, key, requireLabelledProperties((map as Json)[key]));
  return copy;
}

/** Defines an own property (a key such as `__proto__` never reaches the prototype). */
function set(target: Json, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
