import { types } from 'node:util';
import { CanonicalJsonError } from './errors.js';

/**
 * The children of an array or a plain object, read the one way every argument reader uses
 * (`unwrapLabeled`, `labelOf`, `sourcesOf`, `canonicalJson`, `deepFreeze`, `@ape/provenance`), so
 * that what the policy sees, what the label is computed from and what the tool gets are the same.
 *
 * Arrays are read by index up to their own `length`: never through `map`, spread, `for…of` or an
 * own `Symbol.iterator`, which an array can override to hide or change its elements; other own
 * properties of an array are not part of its JSON value and are not returned. Objects give their
 * own enumerable string keys. Each child is read once, from its property descriptor, so a getter
 * is never run and cannot answer one reader differently from the next.
 *
 * @returns `[key, value]` pairs (a missing array element has the value `undefined`).
 * @throws CanonicalJsonError (`NON_JSON_VALUE`, `details.path`) for an accessor property (a getter
 * or setter) or a `Proxy`, whose answers can change from one read to the next.
 */
export function ownEntries(value: object, path = '$'): readonly (readonly [string | number, unknown])[] {
  if (types.isProxy(value)) {
    throw new CanonicalJsonError(`Not a JSON value at ${path}: a Proxy.`, { path });
  }
  const entries: (readonly [string | number, unknown])[] = [];
  if (Array.isArray(value)) {
    const length = Object.getOwnPropertyDescriptor(value, 'length')?.value as number;
    for (let index = 0; index < length; index++) {
      entries.push([index, dataValue(value, index, `${path}[${index}]`)]);
    }
    return entries;
  }
  for (const key of Object.keys(value)) entries.push([key, dataValue(value, key, `${path}.${key}`)]);
  return entries;
}

function dataValue(owner: object, key: string | number, path: string): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(owner, key);
  if (descriptor === undefined) return undefined;
  if (!('value' in descriptor)) {
    throw new CanonicalJsonError(`Not a JSON value at ${path}: an accessor property (getter or setter).`, {
      path,
    });
  }
  return descriptor.value;
}
