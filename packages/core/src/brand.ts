/**
 * @internal Brands of values the runtime makes (labelled values, tools): a non-enumerable `true`
 * under a `Symbol.for` key, so a value made by another copy of the package is recognised too.
 */

/** Marks `value` with `brand` and freezes it. */
export function freezeBranded<T extends object>(value: T, brand: symbol): T {
  Object.defineProperty(value, brand, { value: true, enumerable: false });
  return Object.freeze(value);
}

/** True when `value` is an object carrying `brand`. */
export function hasBrand(value: unknown, brand: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}
