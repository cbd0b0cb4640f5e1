import { type DataPath, parsePath, valueAt } from './references.js';

/**
 * A declarative check on the end of a run (the suite's JSON Schema describes the same shape):
 * - `{ "path": p, "matches": m }` — the value at `p` matches `m`;
 * - `{ "some": p, "where": { field: m, ... } }` — an item of the array at `p` matches every field;
 * - `{ "none": p, "where": { ... } }` — no item does;
 * - `{ "allOf": [checks] }`, `{ "anyOf": [checks] }`, `{ "not": check }`.
 * Paths start at `state` (the environment's final state) or `answer` (the task's final answer).
 */
export type Check =
  | { readonly path: string; readonly matches: Matcher }
  | { readonly some: string; readonly where: Readonly<Record<string, Matcher>> }
  | { readonly none: string; readonly where: Readonly<Record<string, Matcher>> }
  | { readonly allOf: readonly Check[] }
  | { readonly anyOf: readonly Check[] }
  | { readonly not: Check };

/**
 * A matcher: plain JSON is compared for deep equality; an object with one operator key tests:
 * `$contains` (substring of a string, or an item of an array equal to / containing it), `$gte`,
 * `$lte`, `$in` (equal to one of), `$absent` (the value is missing), `$not`, `$all`, `$any`.
 */
export type Matcher = unknown;

/** What checks look at. */
export interface CheckSubject {
  readonly state: unknown;
  readonly answer: unknown;
}

const ROOTS: ReadonlySet<string> = new Set(['state', 'answer']);
const OPERATORS: ReadonlySet<string> = new Set([
  '$contains',
  '$gte',
  '$lte',
  '$in',
  '$absent',
  '$not',
  '$all',
  '$any',
]);

/** Evaluates `check` on `subject`. Pure; paths were validated at load ({@link checkCheck}). */
export function evaluateCheck(check: Check, subject: CheckSubject): boolean {
  if ('allOf' in check) return check.allOf.every((inner) => evaluateCheck(inner, subject));
  if ('anyOf' in check) return check.anyOf.some((inner) => evaluateCheck(inner, subject));
  if ('not' in check) return !evaluateCheck(check.not, subject);
  if ('path' in check) return matches(read(check.path, subject), check.matches);
  const collection = read('some' in check ? check.some : check.none, subject);
  const items = Array.isArray(collection) ? collection : [];
  const found = items.some((item) =>
    Object.entries(check.where).every(([field, matcher]) => matches(valueAt(item, relative(field)), matcher)),
  );
  return 'some' in check ? found : !found;
}

function read(text: string, subject: CheckSubject): unknown {
  const parsed = parsePath(text);
  if (!parsed.ok) return undefined;
  const root =
    parsed.path.root === 'state' ? subject.state : parsed.path.root === 'answer' ? subject.answer : undefined;
  return valueAt(root, parsed.path.segments);
}

function relative(field: string): DataPath['segments'] {
  const parsed = parsePath(`item.${field}`);
  return parsed.ok ? parsed.path.segments : ['\u0000'];
}

function isOperator(matcher: unknown): matcher is Record<string, unknown> {
  if (typeof matcher !== 'object' || matcher === null || Array.isArray(matcher)) return false;
  const keys = Object.keys(matcher);
  return keys.length === 1 && OPERATORS.has(keys[0]!);
}

/** True when `value` matches `matcher` (see {@link Matcher}). */
export function matches(value: unknown, matcher: Matcher): boolean {
  if (!isOperator(matcher)) return value !== undefined && deepEqual(value, matcher);
  const [operator, operand] = Object.entries(matcher)[0]!;
  switch (operator) {
    case '$contains':
      if (typeof value === 'string') return typeof operand === 'string' && value.includes(operand);
      if (Array.isArray(value)) {
        return value.some((item) => deepEqual(item, operand) || mentionsText(item, operand));
      }
      return false;
    case '$gte':
      return typeof value === 'number' && typeof operand === 'number' && value >= operand;
    case '$lte':
      return typeof value === 'number' && typeof operand === 'number' && value <= operand;
    case '$in':
      return Array.isArray(operand) && value !== undefined && operand.some((item) => deepEqual(value, item));
    case '$absent':
      return (value === undefined) === (operand === true);
    case '$not':
      return !matches(value, operand);
    case '$all':
      return Array.isArray(operand) && operand.every((inner) => matches(value, inner));
    case '$any':
      return Array.isArray(operand) && operand.some((inner) => matches(value, inner));
    default:
      return false;
  }
}

/** An array item "contains" a string when the item's text (or JSON text, for objects) includes it. */
function mentionsText(item: unknown, operand: unknown): boolean {
  if (typeof operand !== 'string') return false;
  if (typeof item === 'string') return item.includes(operand);
  return typeof item === 'object' && item !== null && JSON.stringify(item).includes(operand);
}

function deepEqual(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (typeof left !== 'object' || typeof right !== 'object' || left === null || right === null) return false;
  if (Array.isArray(left) !== Array.isArray(right)) return false;
  const leftKeys = Object.keys(left);
  const rightKeys = Object.keys(right);
  if (leftKeys.length !== rightKeys.length) return false;
  return leftKeys.every(
    (key) =>
      Object.hasOwn(right, key) &&
      deepEqual((left as Record<string, unknown>)[key], (right as Record<string, unknown>)[key]),
  );
}

/** Every problem with the paths and operators of `check`, each naming its JSON path below `where`. */
export function checkCheck(check: Check, where: string): string[] {
  const problems: string[] = [];
  const visitMatcher = (matcher: unknown, path: string): void => {
    if (Array.isArray(matcher)) return;
    if (typeof matcher !== 'object' || matcher === null) return;
    const keys = Object.keys(matcher);
    if (keys.some((key) => key.startsWith('$'))) {
      if (!isOperator(matcher)) {
        problems.push(`${path}: an operator object has exactly one of ${[...OPERATORS].join(', ')}`);
        return;
      }
      const [operator, operand] = Object.entries(matcher)[0]!;
      if (operator === '$not') visitMatcher(operand, `${path}.$not`);
      if ((operator === '$all' || operator === '$any' || operator === '$in') && !Array.isArray(operand)) {
        problems.push(`${path}.${operator}: must be an array`);
      }
      if ((operator === '$all' || operator === '$any') && Array.isArray(operand)) {
        operand.forEach((inner, index) => {
          visitMatcher(inner, `${path}.${operator}[${index}]`);
        });
      }
    }
  };
  const visitPath = (text: string, path: string): void => {
    const parsed = parsePath(text);
    if (!parsed.ok) problems.push(`${path}: ${parsed.message}`);
    else if (!ROOTS.has(parsed.path.root)) problems.push(`${path}: a check path starts at state or answer`);
  };
  const visit = (inner: Check, path: string): void => {
    if ('allOf' in inner)
      inner.allOf.forEach((item, index) => {
        visit(item, `${path}.allOf[${index}]`);
      });
    else if ('anyOf' in inner)
      inner.anyOf.forEach((item, index) => {
        visit(item, `${path}.anyOf[${index}]`);
      });
    else if ('not' in inner) visit(inner.not, `${path}.not`);
    else if ('path' in inner) {
      visitPath(inner.path, `${path}.path`);
      visitMatcher(inner.matches, `${path}.matches`);
    } else {
      const collection = 'some' in inner ? inner.some : inner.none;
      visitPath(collection, `${path}.${'some' in inner ? 'some' : 'none'}`);
      for (const [field, matcher] of Object.entries(inner.where)) {
        if (!parsePath(`item.${field}`).ok) problems.push(`${path}.where.${field}: not a field path`);
        visitMatcher(matcher, `${path}.where.${field}`);
      }
    }
  };
  visit(check, where);
  return problems;
}
