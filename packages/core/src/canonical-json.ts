import * as nodeCrypto from 'node:crypto';
import { types } from 'node:util';
import { CanonicalJsonError } from './errors.js';

/** Nesting deeper than this is refused rather than risking the call stack. */
export const MAX_CANONICAL_DEPTH = 256;

/**
 * Serialises a plain JSON value deterministically: object keys sorted by UTF-16 code units, no
 * whitespace, numbers as ECMAScript prints them (`-0` as `0`), object properties whose value is
 * `undefined` omitted.
 *
 * Only plain objects (prototype `Object.prototype` or `null`), arrays, strings, finite numbers,
 * booleans and `null` are accepted. Anything else (functions, symbols, `BigInt`, `NaN`, `Infinity`,
 * `undefined` in an array or at the top, class instances such as `Date` or `Map`, cycles, nesting
 * deeper than {@link MAX_CANONICAL_DEPTH}) throws {@link CanonicalJsonError} naming the JSON path.
 */
export function canonicalJson(value: unknown): string {
  return serialise(value, undefined, undefined, [], 0);
}

/**
 * Where a value sits, built only for containers and turned into a `$.a[0].b` path only when an
 * error names it: a hot path (every call's args, every audit record) builds no path strings.
 */
interface PathLink {
  readonly up: PathLink | undefined;
  readonly key: string | number | undefined;
}

function pathOf(up: PathLink | undefined, key: string | number | undefined): string {
  let path = stepOf(key);
  for (let link = up; link !== undefined; link = link.up) path = stepOf(link.key) + path;
  return `$${path}`;
}

function stepOf(key: string | number | undefined): string {
  return key === undefined ? '' : typeof key === 'number' ? `[${key}]` : `.${key}`;
}

function serialise(
  value: unknown,
  up: PathLink | undefined,
  key: string | number | undefined,
  ancestors: object[],
  depth: number,
): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw nonJson(pathOf(up, key), `the number ${String(value)} is not JSON`);
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (depth >= MAX_CANONICAL_DEPTH)
        throw nonJson(pathOf(up, key), `nesting deeper than ${MAX_CANONICAL_DEPTH}`);
      if (ancestors.includes(value)) throw nonJson(pathOf(up, key), 'a cycle');
      // The same refusal `ownEntries` makes, checked once per container.
      if (types.isProxy(value)) throw nonJson(pathOf(up, key), 'a Proxy');
      ancestors.push(value);
      const here: PathLink = { up, key };
      const out = Array.isArray(value)
        ? serialiseArray(value, here, ancestors, depth)
        : serialiseObject(value, here, ancestors, depth);
      ancestors.pop();
      return out;
    }
    case 'undefined':
      throw nonJson(pathOf(up, key), 'undefined');
    case 'bigint':
      throw nonJson(pathOf(up, key), 'a BigInt');
    case 'function':
      throw nonJson(pathOf(up, key), 'a function');
    case 'symbol':
      throw nonJson(pathOf(up, key), 'a symbol');
  }
  throw nonJson(pathOf(up, key), `a value of type ${typeof value}`);
}

/**
 * A child read the way `ownEntries` reads it: from its property descriptor, so a getter is never
 * run; an accessor is refused.
 */
function childOf(owner: object, key: string | number, here: PathLink): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(owner, key);
  if (descriptor === undefined) return undefined;
  if (!('value' in descriptor)) {
    throw nonJson(pathOf(here, key), 'an accessor property (getter or setter)');
  }
  return descriptor.value;
}

// Arrays are read by index up to their own `length`, never through an iterator (see ownEntries).
function serialiseArray(value: unknown[], here: PathLink, ancestors: object[], depth: number): string {
  const length = Object.getOwnPropertyDescriptor(value, 'length')?.value as number;
  const items: unknown[] = new Array(length);
  for (let index = 0; index < length; index++) items[index] = childOf(value, index, here);
  let out = '[';
  for (let index = 0; index < length; index++) {
    if (!Object.hasOwn(value, index)) throw nonJson(pathOf(here, index), 'a hole in an array');
    if (index > 0) out += ',';
    out += serialise(items[index], here, index, ancestors, depth + 1);
  }
  return `${out}]`;
}

function serialiseObject(value: object, here: PathLink, ancestors: object[], depth: number): string {
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    const name = (prototype as { constructor?: { name?: string } }).constructor?.name ?? 'unknown';
    throw nonJson(pathOf(here.up, here.key), `an instance of ${name}`);
  }
  if (Object.getOwnPropertySymbols(value).length > 0)
    throw nonJson(pathOf(here.up, here.key), 'a symbol-keyed property');
  const keys = Object.keys(value);
  const items: unknown[] = new Array(keys.length);
  for (let index = 0; index < keys.length; index++) items[index] = childOf(value, keys[index]!, here);
  // Sorted by UTF-16 code units (the default order of `sort` on strings); keys are unique.
  const order =
    keys.length < 2
      ? undefined
      : keys.map(indexOf).sort((left, right) => (keys[left]! < keys[right]! ? -1 : 1));
  let out = '{';
  let first = true;
  for (let position = 0; position < keys.length; position++) {
    const index = order === undefined ? position : order[position]!;
    const item = items[index];
    if (item === undefined) continue;
    const name = keys[index]!;
    out += `${first ? '' : ','}${JSON.stringify(name)}:${serialise(item, here, name, ancestors, depth + 1)}`;
    first = false;
  }
  return `${out}}`;
}

function indexOf(_: string, index: number): number {
  return index;
}

function nonJson(path: string, what: string): CanonicalJsonError {
  return new CanonicalJsonError(`Not a JSON value at ${path}: ${what}.`, { path });
}

type OneShotHash = (algorithm: string, data: string, outputEncoding: 'hex') => string;

/** `crypto.hash` (Node ≥ 20.12): one native call, several times faster than a `Hash` object for short input. */
const oneShotHash = (nodeCrypto as { hash?: OneShotHash }).hash;

/** Lower-case hex SHA-256 of a UTF-8 string. */
export function sha256(text: string): string {
  return oneShotHash === undefined
    ? nodeCrypto.createHash('sha256').update(text, 'utf8').digest('hex')
    : oneShotHash('sha256', text, 'hex');
}

/** `sha256(canonicalJson(value))`: equal for equal JSON content, whatever the key order. */
export function hashCanonical(value: unknown): string {
  return sha256(canonicalJson(value));
}
