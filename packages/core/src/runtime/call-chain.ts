import { canonicalJson, hashCanonical, sha256 } from '../canonical-json.js';
import { type DeepReadonly, deepFreeze } from '../deep-freeze.js';
import type { Plan, PlanStep } from '../plan.js';

/** One step of a calls-mode chain: what the model proposed. */
export interface ChainStep {
  readonly action_id: string;
  readonly args: Readonly<Record<string, unknown>>;
}

/** `head₀ = sha256(canonical({ intent: intentVersion }))`. */
export function chainStart(intentVersion: string): string {
  return hashCanonical({ intent: intentVersion });
}

/** `headᵢ₊₁ = sha256(canonical({ prev: headᵢ, index: i, step }))`, `step = { action_id, args }`. */
export function chainNext(prev: string, index: number, step: ChainStep): string {
  return chainLinkHash(prev, index, step.action_id, canonicalJson(step.args));
}

/**
 * @internal {@link chainNext} from the canonical JSON of the args (`argsText`, the text `argsHash`
 * was computed from), so a call's args are serialised once. The link's canonical JSON has its keys
 * in the order `index, prev, step` and the step's in the order `action_id, args`; equal, byte for
 * byte, to `canonicalJson({ prev, index, step })`.
 */
export function chainLinkHash(prev: string, index: number, actionId: string, argsText: string): string {
  return sha256(
    `{"index":${canonicalJson(index)},"prev":${canonicalJson(prev)},"step":{"action_id":${canonicalJson(actionId)},"args":${argsText}}}`,
  );
}

/** What appending one step produced. */
export interface ChainLink {
  readonly index: number;
  readonly prev: string;
  readonly head: string;
}

/**
 * @internal The append-only plan of a calls-mode session: every proposed call (also the ones later
 * denied), in order, with the chain of heads. Restarted (new head₀) when the intent changes.
 */
export class CallChain {
  readonly #steps: DeepReadonly<PlanStep>[] = [];
  /** `#heads[i]` is headᵢ: `#heads[0]` is head₀, `#heads[i + 1]` the head after step i. */
  readonly #heads: string[];
  #head: string;
  #view: DeepReadonly<Plan> | undefined;

  constructor(intentVersion: string) {
    this.#head = chainStart(intentVersion);
    this.#heads = [this.#head];
  }

  /** The head after step `index` (what that step's token binds to), if the step exists. */
  headAfter(index: number): string | undefined {
    return Number.isSafeInteger(index) && index >= 0 ? this.#heads[index + 1] : undefined;
  }

  /** The current head: head₀ before the first call, then the head after the last step. */
  get head(): string {
    return this.#head;
  }

  get length(): number {
    return this.#steps.length;
  }

  /** The steps so far as a deep-frozen plan (a new view after each append). */
  get plan(): DeepReadonly<Plan> {
    this.#view ??= deepFreeze({ steps: this.#steps.slice() as PlanStep[] });
    return this.#view;
  }

  step(index: number): DeepReadonly<PlanStep> | undefined {
    return this.#steps[index];
  }

  /**
   * Appends `step` and moves the head. Its args must already be plain JSON, deep-frozen, and
   * `argsText` their canonical JSON (what `prepareArgs` produced): neither is done again here.
   */
  append(step: DeepReadonly<ChainStep>, argsText: string): ChainLink {
    const index = this.#steps.length;
    const prev = this.#head;
    const head = chainLinkHash(prev, index, step.action_id, argsText);
    this.#steps.push(Object.freeze({ action_id: step.action_id, args: step.args }) as DeepReadonly<PlanStep>);
    this.#head = head;
    this.#heads.push(head);
    this.#view = undefined;
    return { index, prev, head };
  }
}
