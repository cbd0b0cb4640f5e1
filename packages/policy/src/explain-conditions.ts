import type { RuleConditions } from './definition.js';
import { ANNOTATION_KEYWORDS, PATH_KEYWORD, URL_KEYWORD } from './keywords.js';
import { PROVENANCE_KEYWORD, requireLabelledProperties } from './provenance-keyword.js';
import type { ExplainCondition } from './types.js';

type Json = Readonly<Record<string, unknown>>;

/** The JSON types a value is known to have in a schema position (`undefined`: any). */
type KnownTypes = ReadonlySet<string> | undefined;

/**
 * Where a condition is read: the subject (`args`, `args.to`, `args.items[*]`) and the JSON types
 * the enclosing conjunction already guarantees, so `pattern` is not told "or is not a string" when
 * a sibling `type: string` makes that impossible.
 */
interface Place {
  readonly subject: string;
  readonly known: KnownTypes;
}

/** How a piece of text binds: an `and` list, an `or` list, or one phrase. */
type Binding = 'and' | 'or' | 'atom';

/** A condition with its exact rendering. */
interface Reading {
  readonly condition: ExplainCondition;
  readonly text: string;
  readonly binding: Binding;
  /** False when some keyword below could not be summarised. */
  readonly exact: boolean;
}

/** One row of the keyword table: how a keyword reads on a subject. */
interface KeywordRow {
  /** The JSON type the keyword constrains; on other values it holds (JSON Schema semantics). */
  readonly appliesTo?: 'string' | 'number' | 'object' | 'array';
  /** The phrase, for a value of the right type: `args.to matches /x/`. */
  readonly phrase: (subject: string, value: unknown) => string;
}

const json = (value: unknown): string => JSON.stringify(value);
const list = (values: readonly unknown[], separator = ', '): string =>
  values.map((value) => (typeof value === 'string' ? value : json(value))).join(separator);
const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;
const properties = (count: number): string => `${count} ${count === 1 ? 'property' : 'properties'}`;
/** A row of a keyword that bounds a count: `args.to has at least 2 characters`. */
const counted = (
  appliesTo: 'string' | 'object' | 'array',
  bound: 'at least' | 'at most',
  count: (value: number) => string,
): KeywordRow => ({
  appliesTo,
  phrase: (subject, value) => `${subject} has ${bound} ${count(value as number)}`,
});

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  null: 'null',
  object: 'an object',
  array: 'an array',
};

function typesOf(value: unknown): readonly string[] {
  return (Array.isArray(value) ? value : [value]) as readonly string[];
}

/**
 * Every keyword explain renders, one row each. A keyword not listed here (and not handled
 * structurally below: `properties`, `required`, `items`, `not`, `allOf`, `anyOf`, `oneOf`, `if`,
 * `additionalProperties`) is reported as not summarised, never guessed at.
 */
const KEYWORDS: Readonly<Record<string, KeywordRow>> = {
  type: {
    phrase: (subject, value) =>
      `${subject} is ${typesOf(value)
        .map((type) => TYPE_NAMES[type] ?? json(type))
        .join(' or ')}`,
  },
  const: { phrase: (subject, value) => `${subject} = ${json(value)}` },
  enum: { phrase: (subject, value) => `${subject} is one of [${(value as unknown[]).map(json).join(', ')}]` },
  pattern: { appliesTo: 'string', phrase: (subject, value) => `${subject} matches /${String(value)}/` },
  minLength: counted('string', 'at least', (n) => plural(n, 'character')),
  maxLength: counted('string', 'at most', (n) => plural(n, 'character')),
  minimum: { appliesTo: 'number', phrase: (subject, value) => `${subject} >= ${json(value)}` },
  maximum: { appliesTo: 'number', phrase: (subject, value) => `${subject} <= ${json(value)}` },
  exclusiveMinimum: { appliesTo: 'number', phrase: (subject, value) => `${subject} > ${json(value)}` },
  exclusiveMaximum: { appliesTo: 'number', phrase: (subject, value) => `${subject} < ${json(value)}` },
  multipleOf: {
    appliesTo: 'number',
    phrase: (subject, value) => `${subject} is a multiple of ${json(value)}`,
  },
  minItems: counted('array', 'at least', (n) => plural(n, 'item')),
  maxItems: counted('array', 'at most', (n) => plural(n, 'item')),
  uniqueItems: {
    appliesTo: 'array',
    phrase: (subject, value) => (value === true ? `${subject} has no repeated items` : 'true'),
  },
  minProperties: counted('object', 'at least', properties),
  maxProperties: counted('object', 'at most', properties),
  required: {
    appliesTo: 'object',
    phrase: (subject, value) =>
      (value as string[]).map((name) => `${member(subject, name)} is present`).join(' and '),
  },
  [PATH_KEYWORD]: {
    phrase: (subject, value) => {
      const options = value as { roots: string[]; exclude?: string[]; relativeTo?: string };
      const exclude = options.exclude ?? [];
      return `${subject} is a safe path within ${list(options.roots, ' or ')}${
        exclude.length === 0 ? '' : ` but not within ${list(exclude, ' or ')}`
      }${options.relativeTo === undefined ? '' : ` (relative paths resolved against ${options.relativeTo})`}`;
    },
  },
  [PROVENANCE_KEYWORD]: {
    phrase: (subject, value) =>
      `every value in ${subject} comes from ${list(value as readonly string[], ' or ')} (per-argument provenance)`,
  },
  [URL_KEYWORD]: {
    phrase: (subject, value) => {
      const options = value as { schemes: string[]; hosts: string[]; ports?: number[] };
      return `${subject} is a URL with scheme ${list(options.schemes, ' or ')} and host ${list(options.hosts, ' or ')}${
        options.ports === undefined ? '' : ` and port ${list(options.ports, ' or ')}`
      }`;
    },
  },
};

/** Keywords read together with their siblings (see {@link readSchema}). */
const STRUCTURAL = new Set([
  'properties',
  'required',
  'items',
  'additionalProperties',
  'not',
  'allOf',
  'anyOf',
  'oneOf',
  'if',
  'then',
  'else',
]);

const NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function member(subject: string, name: string): string {
  return NAME.test(name) ? `${subject}.${name}` : `${subject}[${json(name)}]`;
}

function wrap(reading: Reading, inside: Binding): string {
  return reading.binding === 'atom' || reading.binding === inside ? reading.text : `(${reading.text})`;
}

const ALWAYS: Reading = { condition: { op: 'always' }, text: 'always', binding: 'atom', exact: true };

function all(readings: readonly Reading[]): Reading {
  const kept = readings.filter((reading) => reading.condition.op !== 'always');
  if (kept.length === 0) return ALWAYS;
  if (kept.length === 1) return kept[0]!;
  return {
    condition: { op: 'all', of: kept.map((reading) => reading.condition) },
    text: kept.map((reading) => wrap(reading, 'and')).join(' and '),
    binding: 'and',
    exact: kept.every((reading) => reading.exact),
  };
}

function any(readings: readonly Reading[]): Reading {
  if (readings.length === 1) return readings[0]!;
  return {
    condition: { op: 'any', of: readings.map((reading) => reading.condition) },
    text: readings.length === 0 ? 'never' : readings.map((reading) => wrap(reading, 'or')).join(' or '),
    binding: readings.length === 0 ? 'atom' : 'or',
    exact: readings.every((reading) => reading.exact),
  };
}

function negate(reading: Reading): Reading {
  return {
    condition: { op: 'not', of: reading.condition },
    text: `not (${reading.text})`,
    binding: 'atom',
    exact: reading.exact,
  };
}

/** Whether the known types make a keyword that constrains `type` apply for sure. */
function certainlyOfType(known: KnownTypes, type: string): boolean {
  if (known === undefined || known.size === 0) return false;
  for (const item of known) {
    if (!(item === type || (type === 'number' && item === 'integer'))) return false;
  }
  return true;
}

function keywordReading(keyword: string, value: unknown, place: Place): Reading {
  const row = KEYWORDS[keyword];
  if (row === undefined) {
    return {
      condition: { op: 'unsummarised', keyword, value },
      text: `${place.subject} satisfies ${json({ [keyword]: value })} (not summarised)`,
      binding: 'atom',
      exact: false,
    };
  }
  const condition: ExplainCondition = { op: 'keyword', keyword, value };
  if (keyword === 'type' && place.known !== undefined) {
    const types = typesOf(value);
    const covers = (known: string): boolean =>
      types.includes(known) || (known === 'integer' && types.includes('number'));
    // Given what the enclosing schema guarantees, the type always holds.
    if ([...place.known].every(covers)) return ALWAYS;
  }
  if (keyword === 'uniqueItems' && value !== true) return ALWAYS;
  const phrase = row.phrase(place.subject, value);
  if (row.appliesTo === undefined || certainlyOfType(place.known, row.appliesTo)) {
    return {
      condition,
      text: phrase,
      binding: keyword === 'required' && (value as unknown[]).length > 1 ? 'and' : 'atom',
      exact: true,
    };
  }
  const guard = `${place.subject} is not ${TYPE_NAMES[row.appliesTo]}`;
  const body = keyword === 'required' && (value as unknown[]).length > 1 ? `(${phrase})` : phrase;
  return { condition, text: `${body} or ${guard}`, binding: 'or', exact: true };
}

/**
 * Reads one schema at `place`: the keywords of one object hold together (a conjunction), each
 * rendered through {@link KEYWORDS} or structurally; subschemas of the same value inherit the
 * types the conjunction guarantees.
 */
function readSchema(schema: unknown, place: Place): Reading {
  if (schema === true) return ALWAYS;
  if (schema === false) return { condition: { op: 'never' }, text: 'never', binding: 'atom', exact: true };
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    return keywordReading('schema', schema, place);
  }
  const node = schema as Json;
  let known = place.known;
  if (node['type'] !== undefined) {
    const types = new Set(typesOf(node['type']));
    known =
      known === undefined
        ? types
        : new Set(
            [...known].filter((type) => types.has(type) || (type === 'integer' && types.has('number'))),
          );
  }
  const here: Place = { subject: place.subject, known };
  const parts: Reading[] = [];
  const required = Array.isArray(node['required']) ? (node['required'] as string[]) : [];
  const objectCertain = certainlyOfType(known, 'object');
  // `type` is judged against what the enclosing schema guarantees; it reads first, then `required`.
  if (node['type'] !== undefined) parts.push(keywordReading('type', node['type'], place));
  if (required.length > 0) parts.push(keywordReading('required', required, here));
  for (const key of Object.keys(node)) {
    if (ANNOTATION_KEYWORDS.has(key) || STRUCTURAL.has(key) || key === 'type') continue;
    parts.push(keywordReading(key, node[key], here));
  }
  const properties = node['properties'];
  if (typeof properties === 'object' && properties !== null) {
    for (const [name, child] of Object.entries(properties as Json)) {
      parts.push(readProperty(name, child, here, objectCertain && required.includes(name)));
    }
  }
  if (node['additionalProperties'] !== undefined) parts.push(readOthers(node, here));
  if (node['items'] !== undefined) parts.push(readItems(node, here));
  for (const [key, combine] of [
    ['allOf', all],
    ['anyOf', any],
  ] as const) {
    const items = node[key];
    if (Array.isArray(items)) parts.push(combine(items.map((item) => readSchema(item, here))));
  }
  if (Array.isArray(node['oneOf'])) parts.push(readOneOf(node['oneOf'], here));
  if (node['not'] !== undefined) parts.push(negate(readSchema(node['not'], here)));
  if (node['if'] !== undefined) parts.push(readConditional(node, here));
  return all(parts);
}

function readProperty(name: string, child: unknown, place: Place, present: boolean): Reading {
  const subject = member(place.subject, name);
  const inner = readSchema(child, { subject, known: undefined });
  if (inner.condition.op === 'always') return ALWAYS;
  const condition: ExplainCondition = { op: 'property', name, of: inner.condition };
  if (present) return { ...inner, condition };
  if (inner.condition.op === 'never') {
    return { condition, text: `${subject} is absent`, binding: 'atom', exact: true };
  }
  return {
    condition,
    text: `if ${subject} is present then ${wrap(inner, 'atom')}`,
    binding: 'or',
    exact: inner.exact,
  };
}

function readOthers(node: Json, place: Place): Reading {
  const named = Object.keys((node['properties'] ?? {}) as Json);
  if (node['patternProperties'] !== undefined) {
    return keywordReading('additionalProperties', node['additionalProperties'], place);
  }
  const subject = `each property of ${place.subject}${named.length === 0 ? '' : ` other than ${list(named)}`}`;
  const inner = readSchema(node['additionalProperties'], { subject, known: undefined });
  const condition: ExplainCondition = { op: 'others', except: named, of: inner.condition };
  if (inner.condition.op === 'always') return ALWAYS;
  const text =
    inner.condition.op === 'never'
      ? `${place.subject} has no properties${named.length === 0 ? '' : ` other than ${list(named)}`}`
      : wrap(inner, 'atom');
  return certainlyOfType(place.known, 'object')
    ? {
        condition,
        text,
        binding: inner.condition.op === 'never' ? 'atom' : inner.binding,
        exact: inner.exact,
      }
    : {
        condition,
        text: `${wrap({ ...inner, text, binding: 'atom' }, 'or')} or ${place.subject} is not an object`,
        binding: 'or',
        exact: inner.exact,
      };
}

function readItems(node: Json, place: Place): Reading {
  if (node['prefixItems'] !== undefined) return keywordReading('items', node['items'], place);
  const inner = readSchema(node['items'], { subject: `${place.subject}[*]`, known: undefined });
  const condition: ExplainCondition = { op: 'items', of: inner.condition };
  if (inner.condition.op === 'always') return ALWAYS;
  const text = `every item ${place.subject}[*]: ${wrap(inner, 'atom')}`;
  return certainlyOfType(place.known, 'array')
    ? { condition, text, binding: 'atom', exact: inner.exact }
    : { condition, text: `(${text}) or ${place.subject} is not an array`, binding: 'or', exact: inner.exact };
}

function readOneOf(items: readonly unknown[], place: Place): Reading {
  const readings = items.map((item) => readSchema(item, place));
  return {
    condition: { op: 'one', of: readings.map((reading) => reading.condition) },
    text: `exactly one of (${readings.map((reading) => reading.text).join('; ')})`,
    binding: 'atom',
    exact: readings.every((reading) => reading.exact),
  };
}

function readConditional(node: Json, place: Place): Reading {
  const test = readSchema(node['if'], place);
  const then = readSchema(node['then'] ?? true, place);
  const otherwise = readSchema(node['else'] ?? true, place);
  return {
    condition: { op: 'if', test: test.condition, ifTrue: then.condition, ifFalse: otherwise.condition },
    text: `if (${test.text}) then (${then.text}) else (${otherwise.text})`,
    binding: 'atom',
    exact: test.exact && then.exact && otherwise.exact,
  };
}

/** What explain says about a rule's conditions: its logic as data and as text, and whether both are exact. */
export interface ConditionSummary {
  readonly condition: ExplainCondition;
  readonly text: string;
  readonly exact: boolean;
}

/**
 * @internal Summarises `when`: the argument schema (arguments are always an object) and the
 * provenance labels, joined by `and`; `always` without conditions.
 */
export function summariseConditions(when: RuleConditions | undefined): ConditionSummary {
  const parts: Reading[] = [];
  if (when?.args !== undefined) {
    // The schema the evaluator compiles: a property under x-ape-provenance is required there.
    const args = requireLabelledProperties(when.args) as typeof when.args;
    parts.push(readSchema(args, { subject: 'args', known: new Set(['object']) }));
  }
  if (when?.provenance !== undefined) {
    parts.push({
      condition: { op: 'provenance', labels: when.provenance },
      text: `provenance is ${list(when.provenance, ' or ')}`,
      binding: 'atom',
      exact: true,
    });
  }
  const reading = all(parts);
  return { condition: reading.condition, text: reading.text, exact: reading.exact };
}
