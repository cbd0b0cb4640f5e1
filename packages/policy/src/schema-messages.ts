import type { ErrorObject } from 'ajv/dist/2020.js';
import { didYouMean } from './suggest.js';

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'text',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value pairs)',
  null: 'null',
};

/** What a JSON value is, in words: `a list`, `text "abc"`, `the number 3`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string')
    return `text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return `${value}`;
  return 'a mapping';
}

/** The keywords that bound a count (`minItems: 1` reads "must not be empty"): what is counted and the words. */
const COUNT_BOUNDS: ReadonlyMap<string, { least: boolean; verb: string; noun: string; tail: string }> =
  new Map([
    ['minItems', { least: true, verb: 'have', noun: 'item', tail: '' }],
    ['maxItems', { least: false, verb: 'have', noun: 'item', tail: '' }],
    ['minLength', { least: true, verb: 'be', noun: 'character', tail: '' }],
    ['maxLength', { least: false, verb: 'be', noun: 'character', tail: ' long' }],
    ['minProperties', { least: true, verb: 'have', noun: 'key', tail: '' }],
    ['maxProperties', { least: false, verb: 'have', noun: 'key', tail: '' }],
  ]);

function items(count: unknown, noun: string): string {
  return `${String(count)} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * @internal One ajv error (from a validator created with `verbose: true`) in plain words, without
 * ajv's wording: `must be a list, not text "read_file"`, `must be one of "allow", "deny",
 * "escalate"; did you mean "deny"?`. `additionalProperties` and `pattern` are worded by the caller,
 * which knows what the key or the text stands for.
 */
export function plainSchemaMessage(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  const bound = COUNT_BOUNDS.get(error.keyword);
  if (bound !== undefined) {
    if (bound.least && params['limit'] === 1) return 'must not be empty';
    const limit = `${bound.least ? 'at least' : 'at most'} ${items(params['limit'], bound.noun)}`;
    return `must ${bound.verb} ${limit}${bound.tail}`;
  }
  switch (error.keyword) {
    case 'type': {
      const types = String(params['type']).split(',');
      const wanted = types.map((type) => TYPE_WORDS[type] ?? type).join(' or ');
      return `must be ${wanted}, not ${describeValue(error.data)}`;
    }
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[] | undefined) ?? [];
      const hint =
        typeof error.data === 'string'
          ? didYouMean(
              error.data,
              allowed.filter((value): value is string => typeof value === 'string'),
            )
          : '';
      return `must be one of ${allowed.map((value) => JSON.stringify(value)).join(', ')}${hint}`;
    }
    case 'const':
      return `must be ${JSON.stringify(params['allowedValue'])}`;
    case 'required':
      return `missing required field "${String(params['missingProperty'])}"`;
    case 'minimum':
      return `must be at least ${String(params['limit'])}`;
    case 'maximum':
      return `must be at most ${String(params['limit'])}`;
    case 'uniqueItems':
      return `lists the same item twice (items ${String(params['j'])} and ${String(params['i'])})`;
    default:
      return error.message ?? `fails ${error.keyword}`;
  }
}

/** @internal The keys a mapping may have, from the parent schema of an `additionalProperties` error. */
export function allowedKeys(error: ErrorObject): string[] {
  const properties = (error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return properties === undefined ? [] : Object.keys(properties);
}
