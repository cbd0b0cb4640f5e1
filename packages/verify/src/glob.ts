import { isActionGlob, matchesActionPattern } from '@ape/policy';

/** @internal True when `pattern` contains a wildcard (the glob language of @ape/policy). */
export const isGlob: (pattern: string) => boolean = isActionGlob;

/** @internal Whether `pattern` (exact id or glob) matches `action`, exactly as @ape/policy decides it. */
export const patternMatches: (pattern: string, action: string) => boolean = matchesActionPattern;

/** @internal Whether any of `patterns` matches `action`. */
export function anyPatternMatches(patterns: readonly string[], action: string): boolean {
  return patterns.some((pattern) => patternMatches(pattern, action));
}

/** @internal An action id matched by `pattern`: the id itself, or the glob with each wildcard as `x`. */
export function sampleAction(pattern: string): string {
  return isGlob(pattern) ? pattern.replace(/\*\*?/g, 'x') : pattern;
}
