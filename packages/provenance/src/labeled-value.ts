import type { Labeled, ProvenanceLabel } from '@ape/core';
import {
  CanonicalJsonError,
  combineLabels,
  createLabeled,
  isLabeled,
  labelOf,
  ownEntries,
  sourcesOf,
} from '@ape/core';

/** Where data came from: one source (a URL, a file name, a tool id) or several. */
export type Sources = string | readonly string[];

/** The plain value behind `T`: `U` for a `Labeled<U>`, `T` itself otherwise. */
export type Unlabeled<T> = T extends Labeled<infer U> ? U : T;

const MAX_COPY_DEPTH = 256;

/** @internal Normalises a `Sources` argument to a list (a lone string becomes a one-element list). */
export function sourceList(sources: Sources | undefined): readonly string[] {
  if (sources === undefined) return [];
  return typeof sources === 'string' ? [sources] : sources;
}

function isPlainContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * A deep, frozen copy of the plain arrays and objects in `value`. Labelled values inside are kept as
 * they are (they are frozen already); other objects (class instances, dates, functions) are kept by
 * reference. Copying means freezing never touches the caller's own objects, and nothing written into
 * the caller's object later can change what was labelled.
 */
function copyFrozen(value: unknown, depth: number, ancestors: Set<unknown>): unknown {
  if (isLabeled(value) || !isPlainContainer(value)) return value;
  if (depth > MAX_COPY_DEPTH) {
    throw new CanonicalJsonError(`A labelled value is nested deeper than ${MAX_COPY_DEPTH} levels.`, {
      depth,
    });
  }
  if (ancestors.has(value)) {
    throw new CanonicalJsonError('A labelled value contains a cycle; labelled values must be trees.', {
      depth,
    });
  }
  ancestors.add(value);
  let copy: unknown;
  // By index and by descriptor (ownEntries): an own `map` or `Symbol.iterator`, a getter or a Proxy
  // cannot show this copy something other than what the runtime and the tool later read.
  const entries = ownEntries(value);
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (let index = 0; index < entries.length; index++) {
      items.push(copyFrozen(entries[index]![1], depth + 1, ancestors));
    }
    copy = Object.freeze(items);
  } else {
    const object: Record<string, unknown> = {};
    for (let index = 0; index < entries.length; index++) {
      const [key, item] = entries[index]!;
      // defineProperty, not assignment: a key named "__proto__" stays an ordinary own property.
      Object.defineProperty(object, key, {
        value: copyFrozen(item, depth + 1, ancestors),
        enumerable: true,
        writable: false,
        configurable: false,
      });
    }
    copy = Object.freeze(object);
  }
  ancestors.delete(value);
  return copy;
}

/**
 * @internal The one constructor every helper of this package goes through. The result's label is the
 * least trusted of `label` and of every labelled value found inside `value` (so wrapping can never
 * raise the trust of data that was already labelled), and its sources are the union of `sources` and
 * theirs. A labelled `value` is unwrapped one level instead of nested. Plain arrays and objects are
 * copied and deep-frozen.
 */
export function buildLabeled<T>(value: T, label: unknown, sources: readonly string[]): Labeled<Unlabeled<T>> {
  let plain: unknown = value;
  const labels: unknown[] = [label];
  const allSources: string[] = [...sources];
  while (isLabeled(plain)) {
    labels.push(plain.label);
    allSources.push(...plain.sources);
    plain = plain.value;
  }
  // Copy first: it rejects cycles and excessive depth before anything walks the value.
  const copy = copyFrozen(plain, 0, new Set()) as Unlabeled<T>;
  if (typeof copy === 'object' && copy !== null) {
    // Every plain leaf inside takes `label` itself, so only the labelled values found can lower it.
    labels.push(labelOf(copy, combineLabels(label)));
    allSources.push(...sourcesOf(copy));
  }
  return createLabeled(copy, combineLabels(...labels), allSources);
}

/**
 * Labels `value` with `label`, recording where it came from. This is the trust boundary: only the
 * host program decides labels, and it should give `USER_TRUSTED` only to what the user typed or
 * confirmed and `SYSTEM_TRUSTED` only to its own constants and configuration. An unknown label is
 * `EXTERNAL_UNTRUSTED`. If `value` already contains labelled values the result is never more
 * trusted than they are, and it takes their sources too.
 *
 * Returns a frozen `Labeled`; plain arrays and objects in `value` are copied and deep-frozen.
 *
 * @throws {CanonicalJsonError} code `NON_JSON_VALUE` when `value` contains a cycle or is nested
 *   deeper than 256 levels.
 */
export function tainted<T>(value: T, label: ProvenanceLabel, source?: Sources): Labeled<Unlabeled<T>> {
  return buildLabeled(value, label, sourceList(source));
}

/**
 * Shorthand for `tainted(value, 'SYSTEM_TRUSTED', source)`: for text and values written by the host
 * program itself (constants, its own configuration), never for anything read at run time.
 */
export function trusted<T>(value: T, source?: Sources): Labeled<Unlabeled<T>> {
  return buildLabeled(value, 'SYSTEM_TRUSTED', sourceList(source));
}

/**
 * Shorthand for `tainted(value, 'EXTERNAL_UNTRUSTED', source)`: for anything from outside (a web
 * page, a file, an e-mail, a tool's output, the model's text). The source is required, because an
 * untrusted value is only useful in an audit or an escalation if it says where it came from.
 */
export function untrusted<T>(value: T, source: Sources): Labeled<Unlabeled<T>> {
  return buildLabeled(value, 'EXTERNAL_UNTRUSTED', sourceList(source));
}
