import { canonicalJson } from '@ape/core';

/** One step of a data path: a property name or an array index. */
export type PathSegment = string | number;

/** A parsed data path such as `out[1].emails[0].id`: a root name and the steps below it. */
export interface DataPath {
  readonly root: string;
  readonly segments: readonly PathSegment[];
}

const PATH_SHAPE = /^([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d{1,6}\])*)$/;
const PATH_STEP = /\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d{1,6})\]/g;
const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_PATH_LENGTH = 256;

/**
 * Parses the small path syntax of suites: a root name followed by `.name` and `[index]` steps.
 * Nothing is evaluated: names are matched against own properties only, and `__proto__`,
 * `constructor` and `prototype` are refused, so a path can never reach a prototype.
 */
export function parsePath(text: string): { ok: true; path: DataPath } | { ok: false; message: string } {
  if (text.length > MAX_PATH_LENGTH)
    return { ok: false, message: `a path is longer than ${MAX_PATH_LENGTH} characters` };
  const shape = PATH_SHAPE.exec(text);
  if (shape === null) {
    return { ok: false, message: `${JSON.stringify(text)} is not a path such as "out[1].items[0].id"` };
  }
  const segments: PathSegment[] = [];
  for (const step of (shape[2] ?? '').matchAll(PATH_STEP)) {
    if (step[1] !== undefined) {
      if (FORBIDDEN_NAMES.has(step[1]))
        return { ok: false, message: `the name ${step[1]} is not allowed in a path` };
      segments.push(step[1]);
    } else {
      segments.push(Number(step[2]));
    }
  }
  const root = shape[1]!;
  if (FORBIDDEN_NAMES.has(root)) return { ok: false, message: `the name ${root} is not allowed in a path` };
  return { ok: true, path: Object.freeze({ root, segments: Object.freeze(segments) }) };
}

/** The value at `segments` below `value` (own properties and array items only), or `undefined`. */
export function valueAt(value: unknown, segments: readonly PathSegment[]): unknown {
  let current = value;
  for (const segment of segments) {
    if (typeof segment === 'number') {
      if (!Array.isArray(current) || segment >= current.length) return undefined;
      current = current[segment];
    } else {
      if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
      if (!Object.hasOwn(current, segment)) return undefined;
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return current;
}

/**
 * What a task's argument template may contain besides plain JSON:
 * - `{ "$ref": "out[i].path" }` — a value copied from the output of call `i` of the same task;
 * - `{ "$concat": [template, ...] }` — the parts as text, joined (numbers as digits, objects and
 *   arrays as canonical JSON);
 * - `{ "$extract": { "from": "out[i].path", "value": v } }` — the string or number `v`, which the
 *   model read out of free text: it resolves only when the text at `from` contains `v`, and it
 *   counts as copied from call `i` (an IBAN read in a bill is the bill's data, not the user's).
 */
export type Template = unknown;

/** The outputs a template can refer to: index `i` is call `i`'s output, `undefined` when it has none. */
export type Outputs = readonly ({ readonly value: unknown } | undefined)[];

/** A resolved template and the indexes of the calls whose output it copied from. */
export type Resolution =
  | { readonly ok: true; readonly value: unknown; readonly copiedFrom: readonly number[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Builds the value of `template` from `outputs`. A reference to a call that produced no output (it
 * was blocked or failed) or to a path that is not there cannot be resolved: the model could not have
 * written that argument, so the caller skips the call.
 */
export function resolveTemplate(template: Template, outputs: Outputs): Resolution {
  const copiedFrom = new Set<number>();
  try {
    const value = build(template, outputs, copiedFrom);
    return { ok: true, value, copiedFrom: [...copiedFrom].sort((a, b) => a - b) };
  } catch (error) {
    if (error instanceof UnresolvedReference) return { ok: false, reason: error.message };
    throw error;
  }
}

class UnresolvedReference extends Error {}

function build(template: Template, outputs: Outputs, copiedFrom: Set<number>): unknown {
  if (Array.isArray(template)) return template.map((item) => build(item, outputs, copiedFrom));
  if (typeof template !== 'object' || template === null) return template;
  const record = template as Record<string, unknown>;
  if (Object.hasOwn(record, '$ref')) return lookUp(String(record['$ref']), outputs, copiedFrom);
  if (Object.hasOwn(record, '$extract')) {
    const { from, value } = record['$extract'] as { from: string; value: string | number };
    const source = lookUp(from, outputs, copiedFrom);
    const text = typeof source === 'string' ? source : canonicalJson(source);
    if (!text.includes(String(value)))
      throw new UnresolvedReference(`${from} does not contain ${JSON.stringify(value)}`);
    return value;
  }
  if (Object.hasOwn(record, '$concat')) {
    const parts = record['$concat'] as unknown[];
    return parts
      .map((part) => {
        const value = build(part, outputs, copiedFrom);
        return typeof value === 'string'
          ? value
          : typeof value === 'number'
            ? String(value)
            : canonicalJson(value);
      })
      .join('');
  }
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(record)) {
    Object.defineProperty(copy, key, {
      value: build(item, outputs, copiedFrom),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

function lookUp(text: string, outputs: Outputs, copiedFrom: Set<number>): unknown {
  const parsed = parsePath(text);
  if (!parsed.ok || parsed.path.root !== 'out' || typeof parsed.path.segments[0] !== 'number') {
    throw new UnresolvedReference(`${JSON.stringify(text)} is not a reference to an output`);
  }
  const [index, ...rest] = parsed.path.segments as [number, ...PathSegment[]];
  const output = outputs[index];
  if (output === undefined) throw new UnresolvedReference(`call ${index} produced no output`);
  const value = valueAt(output.value, rest);
  if (value === undefined) throw new UnresolvedReference(`${text} is not in the output of call ${index}`);
  copiedFrom.add(index);
  return value;
}

/**
 * Every problem with the references inside `template` for a call at position `callIndex`: malformed
 * special objects, paths that do not parse, roots other than `out`, and references to the call
 * itself or a later one. Each problem names its JSON path below `where`.
 */
export function checkTemplate(template: Template, callIndex: number, where: string): string[] {
  const problems: string[] = [];
  const visit = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        visit(item, `${path}[${index}]`);
      });
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const keys = Object.keys(value);
    const special = keys.filter((key) => key.startsWith('$'));
    if (special.length === 0) {
      for (const key of keys) visit((value as Record<string, unknown>)[key], `${path}.${key}`);
      return;
    }
    if (keys.length !== 1 || !['$ref', '$concat', '$extract'].includes(special[0]!)) {
      problems.push(
        `${path}: a special value is exactly { "$ref": path }, { "$concat": [parts] } or { "$extract": { from, value } }`,
      );
      return;
    }
    const content = (value as Record<string, unknown>)[special[0]!];
    if (special[0] === '$extract') {
      const extract = content as { from?: unknown; value?: unknown } | null;
      const shapeOk =
        typeof extract === 'object' &&
        extract !== null &&
        Object.keys(extract).length === 2 &&
        typeof extract.from === 'string' &&
        (typeof extract.value === 'string' || typeof extract.value === 'number');
      if (!shapeOk) {
        problems.push(`${path}.$extract: must be { "from": "out[i].path", "value": string or number }`);
        return;
      }
      checkReference(extract.from as string, `${path}.$extract.from`);
      return;
    }
    if (special[0] === '$concat') {
      if (!Array.isArray(content) || content.length === 0)
        problems.push(`${path}.$concat: must be a non-empty array`);
      else
        content.forEach((item, index) => {
          visit(item, `${path}.$concat[${index}]`);
        });
      return;
    }
    if (typeof content !== 'string') problems.push(`${path}.$ref: must be a string`);
    else checkReference(content, `${path}.$ref`);
  };
  const checkReference = (text: string, path: string): void => {
    const parsed = parsePath(text);
    if (!parsed.ok) {
      problems.push(`${path}: ${parsed.message}`);
    } else if (parsed.path.root !== 'out' || typeof parsed.path.segments[0] !== 'number') {
      problems.push(`${path}: must start with out[<call index>]`);
    } else if (parsed.path.segments[0] >= callIndex) {
      problems.push(
        callIndex === 0
          ? `${path}: the first call has no earlier output to refer to`
          : `${path}: call ${callIndex} can only refer to earlier calls (0..${callIndex - 1})`,
      );
    }
  };
  visit(template, where);
  return problems;
}
