import { types } from 'node:util';
import { type ArgumentLabels, escapeJsonPointer } from './argument-labels.js';
import { isLabeled } from './labeled.js';
import type { ProvenanceLabel } from './types.js';

/** @internal What {@link copyPlainArgs} gives for arguments without a labelled value. */
export interface PlainArgs {
  /** The frozen deep copy `deepFreeze(unwrapLabeled(args))` gives. */
  readonly copy: Record<string, unknown>;
  /** What `argumentLabels(args, plainLabel)` gives. */
  readonly argLabels: ArgumentLabels | undefined;
  /** Whether `labelOf(args, plainLabel)` counts a plain leaf (or an empty argument object). */
  readonly sawPlain: boolean;
}

/** Nesting the single walk handles; deeper arguments take the general path. */
const FAST_DEPTH = 64;

/** Returned up the walk when the arguments need the general path. */
const GENERAL = Symbol('general');

interface Walk {
  readonly label: ProvenanceLabel;
  /** The JSON pointer of every leaf, in the order the walk met them. */
  readonly pointers: string[];
  sawPlain: boolean;
}

/**
 * @internal The one walk a gated call's arguments usually need: copies, freezes and labels them at
 * once, for arguments made only of plain objects, arrays, strings, finite numbers, booleans and
 * `null` with no labelled value inside. Anything else (a labelled value, an accessor, a `Proxy`, a
 * symbol key, a class instance, a hole, a non-finite number, deep nesting, …) returns `undefined`,
 * and the caller takes the general path (`unwrapLabeled`, `argumentLabels`, `labelOf`, `sourcesOf`),
 * which gives the same results and the same errors: this is a shortcut, never a second semantics.
 */
export function copyPlainArgs(
  args: Readonly<Record<string, unknown>>,
  plainLabel: ProvenanceLabel,
): PlainArgs | undefined {
  const walk: Walk = { label: plainLabel, pointers: [], sawPlain: false };
  const copy = copyValue(args, '', 0, walk);
  if (copy === GENERAL) return undefined;
  const argLabels = walk.pointers.length === 0 ? undefined : labelMaps.of(walk.pointers, plainLabel);
  return { copy: copy as Record<string, unknown>, argLabels, sawPlain: walk.sawPlain };
}

interface LabelNode {
  readonly next: Map<string, LabelNode>;
  map: ArgumentLabels | undefined;
}

/**
 * @internal Label maps already built, in a tree by label, then leaf pointer after leaf pointer.
 * Freezing an object without a prototype costs V8 a slow path (about 0.6 µs for one key), while
 * calls repeat the shape of their arguments; the maps are frozen and hold only the label, so one
 * serves every call with the same pointers. Looked up pointer by pointer: no key string is built.
 * Bounded: the tree is emptied before it would pass `maxNodes` nodes (a root per label, a node per
 * pointer); maps of more than `maxPointers` pointers, or with a pointer longer than
 * `maxPointerLength`, are built for each call and not kept.
 */
export class LabelMaps {
  #roots = new Map<ProvenanceLabel, LabelNode>();
  #nodes = 0;

  constructor(
    readonly maxNodes = 4096,
    readonly maxPointers = 64,
    readonly maxPointerLength = 256,
  ) {}

  /** How many nodes the tree holds. */
  get nodes(): number {
    return this.#nodes;
  }

  /** The frozen map without a prototype giving `label` to each of `pointers` (in that key order). */
  of(pointers: readonly string[], label: ProvenanceLabel): ArgumentLabels {
    const node = pointers.length <= this.maxPointers ? this.#nodeOf(pointers, label) : undefined;
    if (node?.map !== undefined) return node.map;
    // Built as a plain object, then cut from its prototype (as argumentLabels does). Pointers start
    // with "/", so none is "__proto__".
    const labels: Record<string, ProvenanceLabel> = {};
    for (let index = 0; index < pointers.length; index++) labels[pointers[index]!] = label;
    Object.setPrototypeOf(labels, null);
    const map: ArgumentLabels = Object.freeze(labels);
    if (node !== undefined) node.map = map;
    return map;
  }

  /** The node of `pointers` under `label`, made if missing; `undefined` for a pointer too long to keep. */
  #nodeOf(pointers: readonly string[], label: ProvenanceLabel): LabelNode | undefined {
    let node: LabelNode | undefined = this.#roots.get(label);
    for (let index = 0; node !== undefined && index < pointers.length; index++) {
      node = node.next.get(pointers[index]!);
    }
    if (node !== undefined) return node;
    // A new shape: room for a new root and a node per pointer, or the tree starts again.
    if (this.#nodes + pointers.length + 1 > this.maxNodes) {
      this.#roots = new Map();
      this.#nodes = 0;
    }
    let at: LabelNode | undefined = this.#roots.get(label);
    if (at === undefined) {
      at = { next: new Map(), map: undefined };
      this.#roots.set(label, at);
      this.#nodes++;
    }
    for (let index = 0; index < pointers.length; index++) {
      const pointer = pointers[index]!;
      let child: LabelNode | undefined = at.next.get(pointer);
      if (child === undefined) {
        if (pointer.length > this.maxPointerLength) return undefined;
        child = { next: new Map(), map: undefined };
        at.next.set(pointer, child);
        this.#nodes++;
      }
      at = child;
    }
    return at;
  }
}

/** The label maps of every runtime in the process. */
const labelMaps = new LabelMaps();

function leaf(value: unknown, pointer: string, walk: Walk): unknown {
  walk.pointers.push(pointer);
  walk.sawPlain = true;
  return value;
}

function copyValue(value: unknown, pointer: string, depth: number, walk: Walk): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return leaf(value, pointer, walk);
    case 'number':
      return Number.isFinite(value) ? leaf(value, pointer, walk) : GENERAL;
    case 'object':
      if (value === null) return leaf(value, pointer, walk);
      if (depth >= FAST_DEPTH || isLabeled(value) || types.isProxy(value)) return GENERAL;
      return Array.isArray(value)
        ? copyArray(value, pointer, depth, walk)
        : copyObject(value, pointer, depth, walk);
    default:
      return GENERAL;
  }
}

function copyArray(value: readonly unknown[], pointer: string, depth: number, walk: Walk): unknown {
  // An array's `length` is an own data property that cannot be redefined as an accessor.
  const length = value.length;
  const copy: unknown[] = [];
  for (let index = 0; index < length; index++) {
    const descriptor = Object.getOwnPropertyDescriptor(value, index);
    // A hole or an accessor: general path (and so is `undefined`, which copyValue refuses).
    if (descriptor === undefined || !('value' in descriptor)) return GENERAL;
    const item = copyValue(descriptor.value, pointer + '/' + index, depth + 1, walk);
    if (item === GENERAL) return GENERAL;
    copy.push(item);
  }
  return Object.freeze(copy);
}

function copyObject(value: object, pointer: string, depth: number, walk: Walk): unknown {
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return GENERAL;
  if (Object.getOwnPropertySymbols(value).length > 0) return GENERAL;
  const keys = Object.keys(value);
  // labelOf counts an empty argument object as plain.
  if (keys.length === 0 && depth === 0) walk.sawPlain = true;
  const copy: Record<string, unknown> = {};
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!;
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor === undefined || !('value' in descriptor)) return GENERAL;
    let item: unknown = descriptor.value;
    if (item === undefined) {
      // Kept in the copy, no label (argumentLabels), but a plain leaf for labelOf.
      walk.sawPlain = true;
    } else {
      item = copyValue(item, pointer + '/' + escapeJsonPointer(key), depth + 1, walk);
      if (item === GENERAL) return GENERAL;
    }
    // A key Object.prototype knows (`__proto__`, or one a polluted prototype gives a setter) is
    // defined, never assigned: assignment could run an inherited setter.
    if (key in Object.prototype) {
      Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
    } else {
      copy[key] = item;
    }
  }
  return Object.freeze(copy);
}
