import { createLabeled } from '../labeled.js';
import type { ProvenanceLabel } from '../types.js';

/** How the adapter labels the arguments of a call the model proposes. */
export type ProvenanceMode = 'context' | 'dataflow';

/** Every {@link ProvenanceMode}. */
export const PROVENANCE_MODES: readonly ProvenanceMode[] = Object.freeze(['context', 'dataflow']);

/** The shortest run of characters that counts as copied from an untrusted output, by default. */
export const DEFAULT_DATAFLOW_MIN_LENGTH = 12;

/**
 * How many characters of untrusted output one conversation indexes for `dataflow`. Past it the index
 * stops growing and every later call is labelled as in `context` mode (fail closed: untrusted).
 */
export const MAX_INDEXED_CHARACTERS = 1_000_000;

const MAX_WALK_DEPTH = 64;

/**
 * What one conversation has seen of tool outputs: whether anything untrusted entered it (sticky:
 * nothing a client leaves out of later messages un-taints it), and for `dataflow` a set of hashes of
 * every window of `minLength` characters of untrusted text. An adapter records what it returned
 * ({@link TaintTracker.recordResult}) and hands over any other tool result the framework shows it
 * ({@link TaintTracker.observeResult}).
 */
export class TaintTracker {
  readonly #minLength: number;
  readonly #trustedTools: ReadonlySet<string>;
  /** False in `context` mode: no window of any output is indexed (no label reads them). */
  readonly #indexes: boolean;
  /** The label of each result the adapter itself returned, by tool call id. */
  readonly #results = new Map<string, ProvenanceLabel>();
  readonly #indexed = new Set<string>();
  readonly #windows = new Set<number>();
  #indexedCharacters = 0;
  #overflow = false;
  #tainted = false;
  #sources: string[] = [];

  /**
   * @param minLength - the shortest run of characters that counts as copied (`dataflow`).
   * @param trustedTools - names of the tools whose output was declared trusted; read live, so the
   *   adapter may add to it after construction.
   * @param mode - the adapter's {@link ProvenanceMode}. In `context` mode outputs are not indexed
   *   (a label there reads only whether the conversation is tainted), and a `dataflow` label asked
   *   of such a tracker fails closed: every argument of a tainted conversation is untrusted.
   */
  constructor(
    minLength: number,
    trustedTools: ReadonlySet<string> = new Set(),
    mode: ProvenanceMode = 'dataflow',
  ) {
    this.#minLength = minLength;
    this.#trustedTools = trustedTools;
    this.#indexes = mode === 'dataflow';
  }

  /** True once untrusted output entered the conversation. */
  get tainted(): boolean {
    return this.#tainted;
  }

  /**
   * Reads the tool results in a framework's messages (each through {@link observeResult}). This
   * tracker reads none: an adapter whose framework shows a tool the conversation overrides it.
   */
  observe(_messages: unknown): void {}

  /** Records what the adapter returned for a call: a tool's labelled output, or its own denial text. */
  recordResult(toolCallId: string, toolName: string, label: ProvenanceLabel, output: unknown): void {
    this.#results.set(toolCallId, label);
    if (label !== 'EXTERNAL_UNTRUSTED') return;
    this.#taint(`tool:${toolName}`);
    this.#index(toolCallId, output);
  }

  /**
   * A tool result the framework shows the adapter (in the conversation's messages): a result the
   * adapter returned keeps the label it had; any other (an unwrapped tool, an earlier process, a
   * provider-executed tool, a message the host inserted) is untrusted unless its tool declared
   * trusted output. `id` is the tool call id when the framework gives one.
   */
  observeResult(id: string | undefined, toolName: string, output: unknown): void {
    const known = id === undefined ? undefined : this.#results.get(id);
    if (known !== undefined) return;
    if (this.#trustedTools.has(toolName)) return;
    this.#taint(`tool:${toolName}`);
    this.#index(id ?? `message:${this.#indexed.size}`, output);
  }

  /**
   * The arguments to hand `runtime.call` and the label of their plain values. `context`: the
   * arguments as they are, labelled with the conversation's lowest trust. `dataflow`: every string
   * leaf holding a run of `minLength` characters found in an untrusted output is wrapped in an
   * `EXTERNAL_UNTRUSTED` labelled value; the rest carries `base`.
   */
  label(
    mode: ProvenanceMode,
    input: unknown,
    base: ProvenanceLabel,
  ): { args: Readonly<Record<string, unknown>>; provenance: ProvenanceLabel } {
    const args = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
    if (!this.#tainted) return { args, provenance: base };
    if (mode === 'context' || this.#overflow || !this.#indexes) {
      return { args, provenance: 'EXTERNAL_UNTRUSTED' };
    }
    return { args: this.#labelLeaves(args, 0) as Record<string, unknown>, provenance: base };
  }

  #taint(source: string): void {
    this.#tainted = true;
    if (!this.#sources.includes(source)) this.#sources = [...this.#sources, source];
  }

  #labelLeaves(value: unknown, depth: number): unknown {
    if (typeof value === 'string') {
      return this.#copied(value) ? createLabeled(value, 'EXTERNAL_UNTRUSTED', this.#sources) : value;
    }
    if (typeof value !== 'object' || value === null) return value;
    if (depth > MAX_WALK_DEPTH) return createLabeled(value, 'EXTERNAL_UNTRUSTED', this.#sources);
    if (Array.isArray(value)) return value.map((item) => this.#labelLeaves(item, depth + 1));
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(copy, key, {
        value: this.#labelLeaves(item, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return copy;
  }

  #copied(text: string): boolean {
    const size = this.#minLength;
    if (text.length < size) return false;
    let hash = windowHash(text, 0, size);
    if (this.#windows.has(hash)) return true;
    const power = powerOf(size);
    for (let end = size; end < text.length; end++) {
      hash = roll(hash, text.charCodeAt(end - size), text.charCodeAt(end), power);
      if (this.#windows.has(hash)) return true;
    }
    return false;
  }

  #index(id: string, output: unknown): void {
    if (!this.#indexes || this.#indexed.has(id)) return;
    this.#indexed.add(id);
    const size = this.#minLength;
    const power = powerOf(size);
    const leaves = stringLeaves(output);
    if (leaves === undefined) {
      this.#overflow = true;
      this.#windows.clear();
      return;
    }
    for (const text of leaves) {
      if (text.length < size) continue;
      this.#indexedCharacters += text.length;
      if (this.#indexedCharacters > MAX_INDEXED_CHARACTERS) {
        this.#overflow = true;
        this.#windows.clear();
        return;
      }
      let hash = windowHash(text, 0, size);
      this.#windows.add(hash);
      for (let end = size; end < text.length; end++) {
        hash = roll(hash, text.charCodeAt(end - size), text.charCodeAt(end), power);
        this.#windows.add(hash);
      }
    }
  }
}

const BASE = 257;

// A polynomial rolling hash mod 2^32: a collision can only make a leaf look copied (less trusted).
function windowHash(text: string, start: number, size: number): number {
  let hash = 0;
  for (let index = start; index < start + size; index++)
    hash = (Math.imul(hash, BASE) + text.charCodeAt(index)) | 0;
  return hash;
}

function powerOf(size: number): number {
  let power = 1;
  for (let index = 1; index < size; index++) power = Math.imul(power, BASE);
  return power;
}

function roll(hash: number, leaving: number, entering: number, power: number): number {
  return (Math.imul(hash - Math.imul(leaving, power), BASE) + entering) | 0;
}

/** The string leaves of an output; `undefined` when it nests deeper than the walk goes (fail closed). */
function stringLeaves(value: unknown): string[] | undefined {
  const out: string[] = [];
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (typeof next.value === 'string') out.push(next.value);
    else if (typeof next.value === 'object' && next.value !== null) {
      if (next.depth > MAX_WALK_DEPTH) return undefined;
      for (const child of Object.values(next.value)) pending.push({ value: child, depth: next.depth + 1 });
    }
  }
  return out;
}
