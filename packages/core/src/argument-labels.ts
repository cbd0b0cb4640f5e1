import { isLabeled } from './labeled.js';
import { combineLabels, isProvenanceLabel } from './labels.js';
import { ownEntries } from './own-entries.js';
import type { ProvenanceLabel } from './types.js';

/**
 * The label of every leaf of a call's arguments, keyed by RFC 6901 JSON pointer (`/to`,
 * `/items/0/url`, `/a~1b` for a property named `a/b`). A frozen object without a prototype.
 */
export type ArgumentLabels = Readonly<Record<string, ProvenanceLabel>>;

const MAX_DEPTH = 256;

/** RFC 6901: `~` becomes `~0`, `/` becomes `~1`, so no argument name can read as another pointer. */
export function escapeJsonPointer(key: string): string {
  return key.includes('~') || key.includes('/') ? key.replace(/~/g, '~0').replace(/\//g, '~1') : key;
}

/**
 * The label of each leaf of `args` (a string, number, boolean or `null`; an empty array or object
 * holds no leaf, as for `labelOf`), keyed by its JSON pointer in the unwrapped arguments the policy sees. A leaf inside labelled values
 * carries the least trusted of their labels (wrapping never raises trust); a leaf outside every
 * labelled value carries `plainLabel`, the label the caller declared for the call. Properties whose
 * value is `undefined` are not arguments and get no entry.
 *
 * Pointers are built from the arguments' structure with RFC 6901 escaping, never read from them:
 * a property literally named `"/to"` is the pointer `/~1to`, not `/to`.
 *
 * @returns `undefined` when the arguments have no leaf (`{}`), or are nested deeper than 256 levels
 * (the runtime refuses such arguments before it asks for labels).
 * @throws CanonicalJsonError for a getter, a setter or a `Proxy` inside (as {@link unwrapLabeled}).
 */
export function argumentLabels(args: unknown, plainLabel: ProvenanceLabel): ArgumentLabels | undefined {
  // Built as a plain object, then cut from its prototype: V8 keeps it in fast mode (an object made
  // by Object.create(null) is a dictionary, several times slower to read on the decision path).
  // Pointers start with "/" (or are ""), so no key can be "__proto__".
  const labels: Record<string, ProvenanceLabel> = {};
  let count = 0;
  const pending: { value: unknown; pointer: string; depth: number; label: ProvenanceLabel | undefined }[] = [
    { value: args, pointer: '', depth: 0, label: undefined },
  ];
  while (pending.length > 0) {
    const { value, pointer, depth, label } = pending.pop()!;
    if (depth > MAX_DEPTH) return undefined;
    if (isLabeled(value)) {
      const own = isProvenanceLabel(value.label) ? value.label : 'EXTERNAL_UNTRUSTED';
      pending.push({
        value: value.value,
        pointer,
        depth: depth + 1,
        label: label === undefined ? own : combineLabels(label, own),
      });
      continue;
    }
    if (value === undefined) continue;
    if (typeof value === 'object' && value !== null && isContainer(value)) {
      const children = ownEntries(value);
      for (let index = children.length - 1; index >= 0; index--) {
        const [key, child] = children[index]!;
        pending.push({
          value: child,
          pointer: `${pointer}/${typeof key === 'number' ? key : escapeJsonPointer(key)}`,
          depth: depth + 1,
          label,
        });
      }
      continue;
    }
    labels[pointer] = label ?? plainLabel;
    count++;
  }
  if (count === 0) return undefined;
  Object.setPrototypeOf(labels, null);
  return Object.freeze(labels);
}

function isContainer(value: object): boolean {
  if (Array.isArray(value)) return true;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
