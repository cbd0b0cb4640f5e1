/**
 * Whether `ours`, a value one of the policy readers built (objects without a prototype), is the
 * same plain JSON as `theirs`: same keys in the same order, numbers equal by `Object.is` (so `-0`
 * stays `-0`), nothing else. `theirs` must have prototype-free objects too (`'none'`, another
 * reader's value), or may have any (`'any'`, `JSON.parse`'s value).
 */
export function sameJson(ours: unknown, theirs: unknown, theirPrototypes: 'none' | 'any' = 'none'): boolean {
  if (typeof theirs !== 'object' || theirs === null) return Object.is(ours, theirs);
  if (typeof ours !== 'object' || ours === null) return false;
  if (Array.isArray(theirs)) {
    return (
      Array.isArray(ours) &&
      ours.length === theirs.length &&
      theirs.every((item, index) => sameJson(ours[index], item, theirPrototypes))
    );
  }
  if (Array.isArray(ours) || Object.getPrototypeOf(ours) !== null) return false;
  if (theirPrototypes === 'none' && Object.getPrototypeOf(theirs) !== null) return false;
  const keys = Object.keys(theirs);
  const own = Object.keys(ours);
  return (
    keys.length === own.length &&
    keys.every(
      (key, index) =>
        own[index] === key &&
        sameJson(
          (ours as Record<string, unknown>)[key],
          (theirs as Record<string, unknown>)[key],
          theirPrototypes,
        ),
    )
  );
}
