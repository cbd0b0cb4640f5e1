import { hasBrand } from './brand.js';
import { CanonicalJsonError } from './errors.js';
import { combineLabels, isProvenanceLabel } from './labels.js';
import { ownEntries } from './own-entries.js';
import type { ProvenanceLabel } from './types.js';

const LABELED_BRAND = Symbol.for('ape.labeled');

/**
 * A value together with the trust label of the data it came from and where that data came from.
 * Create them with `@ape/provenance` (`tainted`, `map`, `join`, the `labeled` template tag); the
 * runtime recognises them anywhere inside a call's arguments.
 */
export interface Labeled<T = unknown> {
  readonly value: T;
  readonly label: ProvenanceLabel;
  /** Where the data came from (URLs, file names, tool ids), deduplicated, in first-seen order. */
  readonly sources: readonly string[];
  readonly [LABELED_BRAND]: true;
}

/**
 * The class of every labelled value. The brand is a non-enumerable `true` under `LABELED_BRAND` on
 * its (frozen) prototype, not on each value: adding it to each value with `defineProperty` cost
 * about 0.4 µs per value, once per gated call. Own properties are exactly `value`, `label` and
 * `sources`; a copy (`{ ...x }`, `structuredClone`, JSON) has neither the prototype nor the brand.
 */
class LabeledValue<T> {
  readonly value: T;
  readonly label: ProvenanceLabel;
  readonly sources: readonly string[];
  constructor(value: T, label: ProvenanceLabel, sources: readonly string[]) {
    this.value = value;
    this.label = label;
    this.sources = sources;
    Object.freeze(this);
  }
}
Object.defineProperty(LabeledValue.prototype, LABELED_BRAND, { value: true });
Object.freeze(LabeledValue.prototype);

const NO_SOURCES: readonly string[] = Object.freeze([]);

/**
 * Creates a frozen labelled value. An unknown label becomes `EXTERNAL_UNTRUSTED` (fail closed).
 * The value itself is not copied or frozen.
 */
export function createLabeled<T>(
  value: T,
  label: unknown,
  sources: readonly string[] = NO_SOURCES,
): Labeled<T> {
  return new LabeledValue(
    value,
    isProvenanceLabel(label) ? label : 'EXTERNAL_UNTRUSTED',
    uniqueSources(sources),
  ) as unknown as Labeled<T>;
}

/** The string sources, deduplicated in first-seen order, frozen (none or one: no `Set`). */
function uniqueSources(sources: readonly string[]): readonly string[] {
  if (Array.isArray(sources) && sources.length <= 1) {
    const only = sources[0];
    return typeof only === 'string' ? Object.freeze([only]) : NO_SOURCES;
  }
  return Object.freeze([...new Set(sources.filter((source) => typeof source === 'string'))]);
}

/** True when `value` is a labelled value (across package copies). */
export function isLabeled(value: unknown): value is Labeled {
  return hasBrand(value, LABELED_BRAND);
}

const MAX_WALK_DEPTH = 256;

/**
 * The effective label of a call's arguments: the least trusted of every labelled value found inside
 * them (objects and arrays are walked, and so are the values inside labelled values, so wrapping an
 * untrusted value in a trusted label never raises its trust), and of `plainLabel` if any plain
 * (unlabelled) leaf outside every labelled value, or an empty argument object, is present.
 * `plainLabel` is the label the caller declares for the call; omitted, it is `EXTERNAL_UNTRUSTED`.
 */
export function labelOf(args: unknown, plainLabel: ProvenanceLabel = 'EXTERNAL_UNTRUSTED'): ProvenanceLabel {
  const labels: unknown[] = [];
  let sawPlain = false;
  const pending: { value: unknown; depth: number; covered: boolean }[] = [
    { value: args, depth: 0, covered: false },
  ];
  while (pending.length > 0) {
    const { value, depth, covered } = pending.pop()!;
    if (depth > MAX_WALK_DEPTH) return 'EXTERNAL_UNTRUSTED';
    if (isLabeled(value)) {
      labels.push(value.label);
      pending.push({ value: value.value, depth: depth + 1, covered: true });
    } else if (typeof value === 'object' && value !== null) {
      let children: readonly (readonly [string | number, unknown])[];
      try {
        children = ownEntries(value);
      } catch {
        // A getter or a Proxy could answer this walk differently from the copy: trust nothing.
        return 'EXTERNAL_UNTRUSTED';
      }
      if (children.length === 0 && depth === 0) sawPlain = true;
      for (let index = 0; index < children.length; index++) {
        pending.push({ value: children[index]![1], depth: depth + 1, covered });
      }
    } else if (!covered) {
      sawPlain = true;
    }
  }
  if (sawPlain) labels.push(plainLabel);
  return combineLabels(...labels);
}

/** Every source named by labelled values inside `args`, deduplicated, in first-seen order. */
export function sourcesOf(args: unknown): readonly string[] {
  const sources = new Set<string>();
  const pending: unknown[] = [args];
  let steps = 0;
  for (let next = 0; next < pending.length && steps++ < 100_000; next++) {
    const value = pending[next];
    if (isLabeled(value)) {
      for (const source of value.sources) sources.add(source);
      pending.push(value.value);
    } else if (typeof value === 'object' && value !== null) {
      let children: readonly (readonly [string | number, unknown])[] = [];
      try {
        children = ownEntries(value);
      } catch {
        // unwrapLabeled refuses the same value, so the call never runs; nothing to name here.
      }
      for (let index = 0; index < children.length; index++) pending.push(children[index]![1]);
    }
  }
  return [...sources];
}

/**
 * A deep copy of `value` with every labelled value replaced by its plain value (recursively), so
 * tools and the policy see ordinary JSON. Arrays are copied by index and every child is read once
 * from its property descriptor (see {@link ownEntries}). Throws {@link CanonicalJsonError} past
 * 256 levels of nesting, and for a getter, a setter or a `Proxy` anywhere inside.
 */
export function unwrapLabeled<T = unknown>(value: unknown): T {
  return unwrap(value, 0, '$') as T;
}

function unwrap(value: unknown, depth: number, path: string): unknown {
  if (depth > MAX_WALK_DEPTH) {
    throw new CanonicalJsonError(`Arguments nested deeper than ${MAX_WALK_DEPTH} levels.`, { depth });
  }
  if (isLabeled(value)) return unwrap(value.value, depth + 1, path);
  if (Array.isArray(value)) {
    const entries = ownEntries(value, path);
    const copy: unknown[] = [];
    for (let index = 0; index < entries.length; index++) {
      copy.push(unwrap(entries[index]![1], depth + 1, `${path}[${index}]`));
    }
    return copy;
  }
  if (typeof value === 'object' && value !== null) {
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== Object.prototype && prototype !== null) return value;
    const entries = ownEntries(value, path);
    const copy: Record<string, unknown> = {};
    for (let index = 0; index < entries.length; index++) {
      const [key, item] = entries[index]!;
      Object.defineProperty(copy, key, {
        value: unwrap(item, depth + 1, `${path}.${key}`),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return copy;
  }
  return value;
}
