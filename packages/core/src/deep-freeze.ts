/** A recursively read-only view of `T`. */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/**
 * Freezes `value` and everything reachable from it, in place, and returns it. Cycles are safe.
 * Use on copies you own: freezing a caller's object would change their program.
 */
export function deepFreeze<T>(value: T): DeepReadonly<T> {
  const pending: unknown[] = [value];
  const seen = new Set<unknown>();
  while (pending.length > 0) {
    const current = pending.pop();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    Object.freeze(current);
    const keys = Reflect.ownKeys(current);
    for (let index = 0; index < keys.length; index++) {
      // The descriptor, not a read: a getter is never run (and an accessor holds no value to freeze).
      const descriptor = Object.getOwnPropertyDescriptor(current, keys[index]!);
      if (descriptor !== undefined && 'value' in descriptor) pending.push(descriptor.value);
    }
  }
  return value as DeepReadonly<T>;
}
