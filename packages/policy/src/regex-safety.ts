/** Longest `pattern` accepted in an argument schema. */
export const MAX_PATTERN_LENGTH = 256;

/**
 * @internal Why a regular expression from a policy is refused, or `undefined` when it is accepted.
 *
 * The ReDoS stance: patterns run on untrusted arguments with the backtracking engine of V8, so
 * only patterns without the constructs behind catastrophic backtracking are accepted: at most
 * {@link MAX_PATTERN_LENGTH} characters, no backreferences, no lookaround, and no quantified group
 * that itself contains a quantifier or an alternation (`(a+)+`, `(a|aa)*`). The check is a
 * conservative heuristic: it may refuse harmless patterns, never the other way round for those
 * shapes. Prefer `x-ape-path`, `x-ape-url`, `enum` or `const` where they fit.
 */
export function unsafePatternReason(pattern: string): string | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) return `longer than ${MAX_PATTERN_LENGTH} characters`;
  if (/\\[1-9]|\\k</.test(pattern)) return 'backreferences are not accepted';
  if (/\(\?<?[=!]/.test(pattern)) return 'lookaround is not accepted';
  // Per open group: does it contain a quantifier or an alternation?
  const groups: { quantified: boolean; alternation: boolean }[] = [];
  let lastClosed: { quantified: boolean; alternation: boolean } | undefined;
  for (let index = 0; index < pattern.length; index++) {
    const character = pattern[index]!;
    if (character === '\\') {
      index += 1;
      lastClosed = undefined;
      continue;
    }
    if (character === '[') {
      index += 1;
      if (pattern[index] === ']') index += 1;
      while (index < pattern.length && pattern[index] !== ']') {
        if (pattern[index] === '\\') index += 1;
        index += 1;
      }
      lastClosed = undefined;
      continue;
    }
    if (character === '(') {
      groups.push({ quantified: false, alternation: false });
      lastClosed = undefined;
      continue;
    }
    if (character === ')') {
      lastClosed = groups.pop();
      continue;
    }
    if (character === '|') {
      const open = groups[groups.length - 1];
      if (open !== undefined) open.alternation = true;
      lastClosed = undefined;
      continue;
    }
    const unbounded =
      character === '*' || character === '+' || (character === '{' && /^\{\d+,\}/.test(pattern.slice(index)));
    const quantifier = unbounded || character === '?' || character === '{';
    if (quantifier) {
      if (unbounded && lastClosed !== undefined && (lastClosed.quantified || lastClosed.alternation)) {
        return 'nested quantifiers are not accepted (catastrophic backtracking)';
      }
      for (const open of groups) open.quantified = open.quantified || unbounded;
      if (lastClosed !== undefined && unbounded) lastClosed = undefined;
      continue;
    }
    lastClosed = undefined;
  }
  return undefined;
}
