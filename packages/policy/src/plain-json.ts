import { childPath, FORBIDDEN_KEYS } from './findings.js';
import type { PolicyFinding, PolicyLimits } from './types.js';

/**
 * @internal Copies a host-supplied value into plain JSON with prototype-free objects, under the
 * same limits as parsed text: depth, keys per object, values, and the `__proto__`-style keys.
 * Accessor properties, class instances, functions, symbols, `BigInt` and non-finite numbers are
 * refused with the JSON path.
 */
export function toPlainJson(
  value: unknown,
  limits: PolicyLimits,
  file: string | undefined,
): { value: unknown; findings: PolicyFinding[] } {
  const findings: PolicyFinding[] = [];
  let nodes = 0;
  const fail = (code: string, path: string, message: string): undefined => {
    findings.push({ severity: 'error', code, message, path, ...(file === undefined ? {} : { file }) });
    return undefined;
  };
  const copy = (input: unknown, path: string, depth: number): unknown => {
    nodes += 1;
    if (nodes > limits.maxNodes) {
      if (nodes === limits.maxNodes + 1) fail('LIMIT_NODES', path, `more than ${limits.maxNodes} values`);
      return undefined;
    }
    switch (typeof input) {
      case 'string':
      case 'boolean':
        return input;
      case 'number':
        return Number.isFinite(input) ? input : fail('SCHEMA', path, 'numbers must be finite');
      case 'object': {
        if (input === null) return null;
        if (depth >= limits.maxDepth)
          return fail('LIMIT_DEPTH', path, `nesting deeper than ${limits.maxDepth} levels`);
        if (Array.isArray(input)) {
          if (input.length > limits.maxKeysPerMapping) {
            return fail(
              'LIMIT_KEYS',
              path,
              `an array with ${input.length} items, over the limit of ${limits.maxKeysPerMapping}`,
            );
          }
          const out: unknown[] = [];
          for (let index = 0; index < input.length; index++) {
            out.push(
              copy(Object.getOwnPropertyDescriptor(input, index)?.value, childPath(path, index), depth + 1),
            );
          }
          return out;
        }
        const prototype = Object.getPrototypeOf(input);
        if (prototype !== Object.prototype && prototype !== null) {
          return fail('SCHEMA', path, 'only plain objects, arrays and JSON scalars are accepted');
        }
        const keys = Object.keys(input);
        if (keys.length > limits.maxKeysPerMapping) {
          return fail(
            'LIMIT_KEYS',
            path,
            `an object with ${keys.length} keys, over the limit of ${limits.maxKeysPerMapping}`,
          );
        }
        const out: Record<string, unknown> = Object.create(null);
        for (const key of keys) {
          const keyPath = childPath(path, key);
          if (FORBIDDEN_KEYS.has(key)) {
            fail('UNKNOWN_KEY', keyPath, `unknown key "${key}"`);
            continue;
          }
          const descriptor = Object.getOwnPropertyDescriptor(input, key);
          if (descriptor === undefined || !('value' in descriptor)) {
            fail('SCHEMA', keyPath, 'accessor properties are not accepted');
            continue;
          }
          if (descriptor.value === undefined) continue;
          Object.defineProperty(out, key, {
            value: copy(descriptor.value, keyPath, depth + 1),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return out;
      }
      default:
        return fail('SCHEMA', path, `a ${typeof input} is not a JSON value`);
    }
  };
  const result = copy(value, '$', 0);
  return { value: result, findings };
}
