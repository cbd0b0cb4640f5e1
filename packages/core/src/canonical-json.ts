import * as nodeCrypto from 'node:crypto';
import { CanonicalJsonError } from './errors.js';
import { ownEntries } from './own-entries.js';

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
  return serialise(value, '$', [], 0);
}

function serialise(value: unknown, path: string, ancestors: object[], depth: number): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw nonJson(path, `the number ${String(value)} is not JSON`);
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (depth >= MAX_CANONICAL_DEPTH) throw nonJson(path, `nesting deeper than ${MAX_CANONICAL_DEPTH}`);
      if (ancestors.includes(value)) throw nonJson(path, 'a cycle');
      ancestors.push(value);
      const out = Array.isArray(value)
        ? serialiseArray(value, path, ancestors, depth)
        : serialiseObject(value, path, ancestors, depth);
      ancestors.pop();
      return out;
    }
    case 'undefined':
      throw nonJson(path, 'undefined');
    case 'bigint':
      throw nonJson(path, 'a BigInt');
    case 'function':
      throw nonJson(path, 'a function');
    case 'symbol':
      throw nonJson(path, 'a symbol');
  }
  throw nonJson(path, `a value of type ${typeof value}`);
}

function serialiseArray(value: unknown[], path: string, ancestors: object[], depth: number): string {
  const entries = ownEntries(value, path);
  const parts: string[] = [];
  for (let index = 0; index < entries.length; index++) {
    if (!Object.hasOwn(value, index)) throw nonJson(`${path}[${index}]`, 'a hole in an array');
    parts.push(serialise(entries[index]![1], `${path}[${index}]`, ancestors, depth + 1));
  }
  return `[${parts.join(',')}]`;
}

function serialiseObject(value: object, path: string, ancestors: object[], depth: number): string {
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    const name = (prototype as { constructor?: { name?: string } }).constructor?.name ?? 'unknown';
    throw nonJson(path, `an instance of ${name}`);
  }
  if (Object.getOwnPropertySymbols(value).length > 0) throw nonJson(path, 'a symbol-keyed property');
  const entries = [...ownEntries(value, path)].sort(([left], [right]) =>
    left < right ? -1 : left > right ? 1 : 0,
  );
  const parts: string[] = [];
  for (let index = 0; index < entries.length; index++) {
    const [key, item] = entries[index]!;
    if (item === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${serialise(item, `${path}.${key}`, ancestors, depth + 1)}`);
  }
  return `{${parts.join(',')}}`;
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
