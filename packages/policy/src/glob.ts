import { LinearRegExp } from './regex-safety.js';
import { policySchema } from './schema.js';

/**
 * True when an action pattern is a glob (contains `*`). Public as `isActionGlob`.
 */
export function isGlob(pattern: string): boolean {
  return pattern.includes('*');
}

/**
 * @internal Compiles an action glob: `*` matches any run of characters except `.`, `**` any run
 * including `.`; everything else is literal. Called at load time only. The expression runs on RE2
 * ({@link LinearRegExp}): on a backtracking engine a glob such as `**a**a**a…**b` takes minutes on
 * a 110-character action id. This is the definition of a glob's meaning; matching goes through
 * {@link compileGlob}, which needs no expression for a glob with one wildcard.
 */
export function globToRegExp(pattern: string): LinearRegExp {
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
      // Syntax characters and `/` are escaped (the u dialect refuses other escapes, such as `\-`).
      source += character.replace(/[.\\^$*+?()[\]{}|/]/g, '\\$&');
    }
  }
  return new LinearRegExp(`${source}$`);
}

/** What `.` matches in a compiled glob's `**`: anything but a line terminator (ECMAScript's `.`). */
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

/**
 * @internal A compiled action glob ({@link compileGlob}), with the meaning of
 * {@link globToRegExp}'s expression. Its literal head and tail are compared first (no action
 * matches otherwise). A glob with one wildcard is then decided by scanning what the wildcard
 * covers, with no regular expression (a property test pins it to the expression); a glob with two
 * or more runs its expression on the linear-time engine.
 */
export class ActionGlob {
  /** The glob's literal text before its first wildcard (every action it matches starts with it). */
  readonly prefix: string;
  readonly #suffix: string;
  readonly #fixed: number;
  /** One wildcard: whether it is `**`, which crosses dots. */
  readonly #crossesDots: boolean;
  /** Two or more wildcards: the glob's expression; `undefined` for one. */
  readonly #regExp: LinearRegExp | undefined;

  constructor(prefix: string, suffix: string, crossesDots: boolean, regExp: LinearRegExp | undefined) {
    this.prefix = prefix;
    this.#suffix = suffix;
    this.#fixed = prefix.length + suffix.length;
    this.#crossesDots = crossesDots;
    this.#regExp = regExp;
  }

  /** Whether the glob matches all of `action`. */
  test(action: string): boolean {
    if (action.length < this.#fixed || !action.startsWith(this.prefix) || !action.endsWith(this.#suffix))
      return false;
    if (this.#regExp !== undefined) return this.#regExp.test(action);
    const covered = action.slice(this.prefix.length, action.length - this.#suffix.length);
    return this.#crossesDots ? !LINE_TERMINATOR.test(covered) : !covered.includes('.');
  }
}

/**
 * @internal Compiles an action glob (it must contain `*`) for repeated matching, with the meaning
 * of {@link globToRegExp}. A glob with one wildcard, the common form (`fs.*`, `mail.**`, `*.read`),
 * is matched without a regular expression (so loading a policy of such globs never loads RE2); any
 * other glob compares its literal head and tail before running its expression on RE2.
 */
export function compileGlob(pattern: string): ActionGlob {
  const first = pattern.indexOf('*');
  const last = pattern.lastIndexOf('*');
  const prefix = pattern.slice(0, first);
  const suffix = pattern.slice(last + 1);
  const oneWildcard = last <= first + 1;
  return new ActionGlob(prefix, suffix, last === first + 1, oneWildcard ? undefined : globToRegExp(pattern));
}

/**
 * Whether an action pattern (exact id, or glob: `*` never crosses a `.`, `**` does) matches an action
 * id. Compiles the glob on every call: for tools (verification, linters), not for hot paths. Public as
 * `matchesActionPattern`.
 */
export function patternMatches(pattern: string, action: string): boolean {
  return isGlob(pattern) ? compileGlob(pattern).test(action) : pattern === action;
}

/**
 * @internal Whether every action `inner` matches is also matched by `outer` (sound, not complete:
 * `false` may be returned for some covered pairs).
 */
export function patternCovers(outer: string, inner: string): boolean {
  if (outer === inner || outer === '**') return true;
  if (!isGlob(inner)) return patternMatches(outer, inner);
  if (inner.includes('**')) return false;
  // A single-star wildcard of `inner` never expands to a '.', so matching its text (with '*' as a
  // literal character) against `outer` shows each of its expansions is matched too.
  return isGlob(outer) && compileGlob(outer).test(inner);
}

/**
 * @internal Returns a finder of the first item (in `items` order) with a pattern that covers a given
 * pattern, as {@link patternCovers} decides. Exact ids sit in a `Map` and each glob is compiled
 * once, so `n` lookups against `m` items cost about `n` times the number of globs, not `n * m`.
 */
export function createCoverFinder<T extends { readonly patterns: readonly string[] }>(
  items: readonly T[],
): (pattern: string) => T | undefined {
  const exact = new Map<string, number>();
  const globs: { readonly index: number; readonly pattern: string; readonly matcher: ActionGlob }[] = [];
  items.forEach((item, index) => {
    for (const pattern of item.patterns) {
      if (isGlob(pattern)) globs.push({ index, pattern, matcher: compileGlob(pattern) });
      else if (!exact.has(pattern)) exact.set(pattern, index);
    }
  });
  return (inner) => {
    // An exact outer covers only itself; a glob outer covers its own text, everything when it is
    // `**`, and otherwise what its expression matches (never a `**` glob).
    let best = isGlob(inner) ? undefined : exact.get(inner);
    const doubleStar = inner.includes('**');
    for (const glob of globs) {
      if (best !== undefined && glob.index >= best) break;
      if (glob.pattern === inner || glob.pattern === '**' || (!doubleStar && glob.matcher.test(inner))) {
        best = glob.index;
        break;
      }
    }
    return best === undefined ? undefined : items[best];
  };
}

/** @internal One pattern and the value it carries. */
export interface PatternEntry<T> {
  readonly pattern: string;
  readonly value: T;
}

const MAX_CACHED_ACTIONS = 4096;

/**
 * @internal Finds every value whose pattern matches an action. Exact ids live in a `Map` (with the
 * globs that match them merged in at build time); other actions test the precompiled globs once and
 * are cached (bounded). Results keep the order given by `compare` and are frozen.
 */
export class PatternIndex<T> {
  private readonly exact = new Map<string, readonly T[]>();
  private readonly globs: { readonly matcher: ActionGlob; readonly value: T }[] = [];
  private readonly cache = new Map<string, readonly T[]>();
  private readonly empty: readonly T[] = Object.freeze([]);

  constructor(
    entries: readonly PatternEntry<T>[],
    private readonly compare: (left: T, right: T) => number,
    knownActions: Iterable<string> = [],
  ) {
    // An index without entries answers "none" for every action (it has no glob either): a table of
    // the known actions would hold nothing but empty answers.
    if (entries.length === 0) return;
    // Exact entries grouped by id (in entry order), so the build is linear in ids and entries.
    const byId = new Map<string, T[]>();
    for (const id of knownActions) byId.set(id, []);
    for (const entry of entries) {
      if (isGlob(entry.pattern)) {
        this.globs.push({ matcher: compileGlob(entry.pattern), value: entry.value });
        continue;
      }
      const values = byId.get(entry.pattern);
      if (values === undefined) byId.set(entry.pattern, [entry.value]);
      else values.push(entry.value);
    }
    // Each exact id is tried against the globs that can match it: those whose literal head starts
    // with the id's first character, and those that start with a wildcard (merged in glob order).
    const byFirst = new Map<string, number[]>();
    this.globs.forEach((glob, index) => {
      const first = glob.matcher.prefix.slice(0, 1);
      const list = byFirst.get(first);
      if (list === undefined) byFirst.set(first, [index]);
      else list.push(index);
    });
    const anyFirst = byFirst.get('') ?? [];
    const candidates = new Map<string, readonly number[]>();
    for (const [first, own] of byFirst) {
      if (first !== '') candidates.set(first, mergeAscending(own, anyFirst));
    }
    for (const [id, values] of byId) {
      for (const index of candidates.get(id.charAt(0)) ?? anyFirst) {
        const glob = this.globs[index]!;
        if (glob.matcher.test(id)) values.push(glob.value);
      }
      if (values.length > 1) values.sort(compare);
      this.exact.set(id, values.length === 0 ? this.empty : Object.freeze(values));
    }
  }

  /**
   * The exact ids the index holds (known actions and exact patterns), each with its values; none
   * when the index has no entries.
   */
  exactEntries(): IterableIterator<[string, readonly T[]]> {
    return this.exact.entries();
  }

  /** Whether the index was built without entries: every lookup answers nothing. */
  get isEmpty(): boolean {
    return this.exact.size === 0 && this.globs.length === 0;
  }

  /** Every value whose pattern matches `action`, in `compare` order. */
  lookup(action: string): readonly T[] {
    const exact = this.exact.get(action);
    if (exact !== undefined) return exact;
    if (this.globs.length === 0) return this.empty;
    const cached = this.cache.get(action);
    if (cached !== undefined) return cached;
    let values: T[] | undefined;
    for (const glob of this.globs) {
      if (glob.matcher.test(action)) {
        if (values === undefined) values = [];
        values.push(glob.value);
      }
    }
    const result = values === undefined ? this.empty : Object.freeze(values.sort(this.compare));
    if (this.cache.size < MAX_CACHED_ACTIONS) this.cache.set(action, result);
    return result;
  }

  /** Whether any pattern matches `action`. */
  has(action: string): boolean {
    return this.lookup(action).length > 0;
  }
}

/** The numbers of two ascending lists, in one ascending list. */
function mergeAscending(left: readonly number[], right: readonly number[]): number[] {
  const merged: number[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) merged.push(left[i]! < right[j]! ? left[i++]! : right[j++]!);
  while (i < left.length) merged.push(left[i++]!);
  while (j < right.length) merged.push(right[j++]!);
  return merged;
}

const ACTION_PATTERN = new RegExp(
  ((policySchema['$defs'] as Record<string, { pattern: string }>)['actionPattern'] as { pattern: string })
    .pattern,
);

/**
 * Whether `text` is an action pattern the policy language accepts (an exact action id or a glob),
 * as the schema's `actionPattern` defines it. For files that name actions next to a policy, such as
 * `@ape/verify`'s assertions.
 */
export function isActionPattern(text: unknown): boolean {
  return typeof text === 'string' && ACTION_PATTERN.test(text);
}
