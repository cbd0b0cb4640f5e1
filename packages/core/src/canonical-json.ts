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
  // A string or a finite number needs no walk (audit lines serialise several per record).
  if (typeof value === 'string') return quoted(value);
  if (typeof value === 'number' && Number.isFinite(value)) return numberJson(value);
  if (value === textOwner && value !== undefined) return ownerText;
  try {
    return serialise(value, [], 0);
  } catch (error) {
    if (error instanceof NonJson) {
      throw new CanonicalJsonError(`Not a JSON value at ${error.path()}: ${error.what}.`, {
        path: error.path(),
      });
    }
    throw error;
  }
}

/**
 * The value whose canonical text the runtime worked out while it built it (the data of one of its
 * own audit events, see `runtime/event-text.ts`), and that text; set only while that event is being
 * appended. Only ever a value frozen all through (nothing in it can change) with the text
 * `canonicalJson` would give for it. Module-private: no other code can set it.
 *
 * One slot, held only for the synchronous part of an append, rather than a `WeakMap` of every
 * event: a `WeakMap` entry kept each event's data and text alive through the next young-generation
 * collection, which then copied them (with a hash-chained memory log, about three quarters of its
 * collection time). A sink that serialises an event later (after backpressure) gets the text by the
 * general walk, which gives the same text.
 */
let textOwner: object | undefined;
let ownerText = '';

/**
 * @internal Remembers `text` as the canonical JSON of `value` until {@link forgetCanonicalText}
 * (`canonicalJson(value)` answers with `text` meanwhile). The caller guarantees that `value` is
 * frozen all through (every object and array in it) and that `text` is exactly what
 * {@link canonicalJson} gives for it. A later call replaces an earlier one.
 */
export function rememberCanonicalText(value: object, text: string): void {
  textOwner = value;
  ownerText = text;
}

/** @internal Forgets the text {@link rememberCanonicalText} gave `value`, if it is still the one held. */
export function forgetCanonicalText(value: object): void {
  if (textOwner !== value) return;
  textOwner = undefined;
  ownerText = '';
}

/**
 * @internal What a refusal carries while it unwinds: each container it passes prepends its key, so
 * the hot path (every call's args, every audit record) builds no path at all.
 */
class NonJson {
  readonly steps: (string | number)[] = [];
  constructor(readonly what: string) {}
  path(): string {
    let path = '$';
    for (let index = this.steps.length - 1; index >= 0; index--) {
      const step = this.steps[index]!;
      path += typeof step === 'number' ? `[${step}]` : `.${step}`;
    }
    return path;
  }
}

/** Serialises `value`; a child's refusal gets `key` added to its path on the way up. */
function child(value: unknown, key: string | number, ancestors: object[], depth: number): string {
  try {
    return serialise(value, ancestors, depth);
  } catch (error) {
    if (error instanceof NonJson) error.steps.push(key);
    throw error;
  }
}

function serialise(value: unknown, ancestors: object[], depth: number): string {
  switch (typeof value) {
    case 'string':
      return quoted(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new NonJson(`the number ${String(value)} is not JSON`);
      return numberJson(value);
    case 'object': {
      if (value === null) return 'null';
      if (depth >= MAX_CANONICAL_DEPTH) throw new NonJson(`nesting deeper than ${MAX_CANONICAL_DEPTH}`);
      if (ancestors.includes(value)) throw new NonJson('a cycle');
      // The same refusal `ownEntries` makes, checked once per container.
      if (types.isProxy(value)) throw new NonJson('a Proxy');
      ancestors.push(value);
      const out = Array.isArray(value)
        ? serialiseArray(value, ancestors, depth)
        : serialiseObject(value, ancestors, depth);
      ancestors.pop();
      return out;
    }
    case 'undefined':
      throw new NonJson('undefined');
    case 'bigint':
      throw new NonJson('a BigInt');
    case 'function':
      throw new NonJson('a function');
    case 'symbol':
      throw new NonJson('a symbol');
  }
  throw new NonJson(`a value of type ${typeof value}`);
}

/**
 * A child read the way `ownEntries` reads it: from its property descriptor, so a getter is never
 * run; an accessor is refused.
 */
function childOf(owner: object, key: string | number): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(owner, key);
  if (descriptor === undefined) return undefined;
  if (!('value' in descriptor)) {
    const refusal = new NonJson('an accessor property (getter or setter)');
    refusal.steps.push(key);
    throw refusal;
  }
  return descriptor.value;
}

// Arrays are read by index up to their own `length`, never through an iterator (see ownEntries).
function serialiseArray(value: unknown[], ancestors: object[], depth: number): string {
  const length = Object.getOwnPropertyDescriptor(value, 'length')?.value as number;
  let out = '[';
  for (let index = 0; index < length; index++) {
    if (!Object.hasOwn(value, index)) {
      const refusal = new NonJson('a hole in an array');
      refusal.steps.push(index);
      throw refusal;
    }
    if (index > 0) out += ',';
    out += child(childOf(value, index), index, ancestors, depth + 1);
  }
  // `+`, not template literals, throughout: V8 builds a template with more work per piece.
  return out + ']';
}

function serialiseObject(value: object, ancestors: object[], depth: number): string {
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    const name = (prototype as { constructor?: { name?: string } }).constructor?.name ?? 'unknown';
    throw new NonJson(`an instance of ${name}`);
  }
  if (Object.getOwnPropertySymbols(value).length > 0) throw new NonJson('a symbol-keyed property');
  const keys = sortedKeys(Object.keys(value));
  let out = '{';
  for (let index = 0; index < keys.length; index++) {
    const name = keys[index]!;
    const item = childOf(value, name);
    if (item === undefined) continue;
    if (out.length > 1) out += ',';
    out += quotedKey(name) + ':' + child(item, name, ancestors, depth + 1);
  }
  return out + '}';
}

/** Keys at most this many use insertion sort (no comparator calls; most objects are this small). */
const SMALL_OBJECT = 16;

/**
 * `keys` sorted by UTF-16 code units (keys are unique): what `sort()` gives, and what `<` on
 * strings compares.
 */
function sortedKeys(keys: string[]): string[] {
  if (keys.length > SMALL_OBJECT) return keys.sort();
  for (let index = 1; index < keys.length; index++) {
    const key = keys[index]!;
    let at = index - 1;
    while (at >= 0 && keys[at]! > key) {
      keys[at + 1] = keys[at]!;
      at--;
    }
    keys[at + 1] = key;
  }
  return keys;
}

/**
 * @internal `JSON.stringify(value)` of a finite number: by the standard (SerializeJSONProperty), its
 * `ToString` (`-0` prints `0`). String concatenation applies that same `ToString`, and V8 answers it
 * from its number-string cache, 2.5–6 times faster than `JSON.stringify` (the audit records of a
 * gated step print about ten numbers).
 */
export function numberJson(value: number): string {
  return '' + value;
}

/**
 * @internal `JSON.stringify(text)`: the text in quotes as it is when no character needs an escape (no
 * control character, quote, backslash or surrogate), which is most text and much cheaper. A loop,
 * not a regular expression, though one was about a quarter faster: no argument may reach
 * `RegExp.prototype.test` or `exec` (the attack battery's pattern rows check exactly that; every
 * argument pattern runs on the linear-time engine).
 */
export function quoted(text: string): string {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x22 || code === 0x5c || (code >= 0xd800 && code <= 0xdfff)) {
      return JSON.stringify(text);
    }
  }
  return '"' + text + '"';
}

/** Quoted property names seen so far (keys repeat across records); bounded, short names only. */
const quotedKeys = new Map<string, string>();
const MAX_QUOTED_KEYS = 1024;
const MAX_CACHED_KEY_LENGTH = 64;

function quotedKey(name: string): string {
  const cached = quotedKeys.get(name);
  if (cached !== undefined) return cached;
  const text = quoted(name);
  if (quotedKeys.size < MAX_QUOTED_KEYS && name.length <= MAX_CACHED_KEY_LENGTH) quotedKeys.set(name, text);
  return text;
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
