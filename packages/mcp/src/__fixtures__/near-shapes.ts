import { RELATED_TASK_META_KEY } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';

// Arbitraries of JSON near an accepted shape: the property tests that hold the gateway's subset
// checks (plain-json.ts) to the MCP SDK's schemas.

/** Mostly `usual`, sometimes `odd`: inputs near the accepted shape, each field varied. */
export function mostly<T, U>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<U>): fc.Arbitrary<T | U> {
  return fc.oneof({ weight: 6, arbitrary: usual }, { weight: 1, arbitrary: odd });
}

/** Usually absent (`undefined`, which JSON drops), sometimes `value`. */
export function rarely<T>(value: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: value });
}

/** A `_meta`: mostly plain keys, sometimes a progress token, a related task, `__proto__` or no object. */
export const metaLike = mostly(
  fc.dictionary(fc.constantFrom('trace', 'ape/provenance', 'x'), fc.jsonValue(), { maxKeys: 2 }),
  fc.oneof(
    fc.dictionary(fc.constantFrom('progressToken', RELATED_TASK_META_KEY, '__proto__'), fc.jsonValue(), {
      minKeys: 1,
      maxKeys: 2,
    }),
    fc.jsonValue(),
  ),
);

/** An object with an own `__proto__` key once it has been through JSON, or any JSON value. */
export const oddObject = fc.oneof(
  fc.dictionary(fc.constant('__proto__'), fc.jsonValue(), { minKeys: 1 }),
  fc.jsonValue(),
);

/** `value` as a message arrives from a pipe: `JSON.parse` of its text (own `__proto__` keys included). */
export function asParsed(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : JSON.parse(text);
}
