/** @internal True when `pattern` contains a wildcard. */
export function isGlob(pattern: string): boolean {
  return pattern.includes('*');
}

/**
 * @internal The action-glob language of @ape/policy: `*` matches any run of characters except `.`,
 * `**` any run including `.`; everything else is literal.
 */
export function globToRegExp(pattern: string): RegExp {
  let source = '^';
  for (let index = 0; index < pattern.length; index++) {
    const character = pattern[index]!;
    if (character === '*') {
      if (pattern[index + 1] === '*') {
        source += '.*';
        index += 1;
      } else {
        source += '[^.]*';
      }
    } else {
      source += character.replace(/[.\\^$+?()[\]{}|/-]/g, '\\$&');
    }
  }
  return new RegExp(`${source}$`);
}

/** @internal Whether `pattern` (exact id or glob) matches `action`. */
export function patternMatches(pattern: string, action: string): boolean {
  return isGlob(pattern) ? globToRegExp(pattern).test(action) : pattern === action;
}

/** @internal Whether any of `patterns` matches `action`. */
export function anyPatternMatches(patterns: readonly string[], action: string): boolean {
  return patterns.some((pattern) => patternMatches(pattern, action));
}

/** @internal An action id matched by `pattern`: the id itself, or the glob with each wildcard as `x`. */
export function sampleAction(pattern: string): string {
  return isGlob(pattern) ? pattern.replace(/\*\*?/g, 'x') : pattern;
}
