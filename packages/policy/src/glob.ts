/** @internal True when `pattern` contains a wildcard. */
export function isGlob(pattern: string): boolean {
  return pattern.includes('*');
}

/**
 * @internal Compiles an action glob: `*` matches any run of characters except `.`, `**` any run
 * including `.`; everything else is literal. Called at load time only.
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

/** @internal Whether `pattern` matches the action id (exact compare or glob). Load-time use only. */
export function patternMatches(pattern: string, action: string): boolean {
  return isGlob(pattern) ? globToRegExp(pattern).test(action) : pattern === action;
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
  return isGlob(outer) && globToRegExp(outer).test(inner);
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
  private readonly globs: { readonly regExp: RegExp; readonly value: T }[] = [];
  private readonly cache = new Map<string, readonly T[]>();
  private readonly empty: readonly T[] = Object.freeze([]);

  constructor(
    entries: readonly PatternEntry<T>[],
    private readonly compare: (left: T, right: T) => number,
    knownActions: Iterable<string> = [],
  ) {
    const exactIds = new Set<string>(knownActions);
    for (const entry of entries) {
      if (isGlob(entry.pattern)) this.globs.push({ regExp: globToRegExp(entry.pattern), value: entry.value });
      else exactIds.add(entry.pattern);
    }
    for (const id of exactIds) {
      const values: T[] = [];
      for (const entry of entries)
        if (!isGlob(entry.pattern) && entry.pattern === id) values.push(entry.value);
      for (const glob of this.globs) if (glob.regExp.test(id)) values.push(glob.value);
      values.sort(compare);
      this.exact.set(id, Object.freeze(values));
    }
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
      if (glob.regExp.test(action)) {
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
