import type { PolicyLimits } from './types.js';

/** The load-time limits used when no option overrides them. */
export const DEFAULT_POLICY_LIMITS: Readonly<PolicyLimits> = Object.freeze({
  maxBytes: 1024 * 1024,
  maxDepth: 64,
  maxAliases: 100,
  maxKeysPerMapping: 1000,
  maxNodes: 100_000,
  maxRules: 10_000,
});

/** @internal The defaults with the caller's overrides (non-positive or non-integer overrides are ignored). */
export function resolveLimits(overrides: Partial<PolicyLimits> | undefined): PolicyLimits {
  const limits: Record<keyof PolicyLimits, number> = { ...DEFAULT_POLICY_LIMITS };
  if (overrides !== undefined) {
    for (const key of Object.keys(DEFAULT_POLICY_LIMITS) as (keyof PolicyLimits)[]) {
      const value = overrides[key];
      if (typeof value === 'number' && Number.isInteger(value) && value >= 0) limits[key] = value;
    }
  }
  return limits;
}

/** @internal Where a node of the parsed document starts, by JSON path; keys under `path + '#key'`. */
export interface SourceMap {
  locate(path: string): { line: number; column: number } | undefined;
}
