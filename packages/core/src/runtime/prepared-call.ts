import { type ArgumentLabels, argumentLabels } from '../argument-labels.js';
import { canonicalJson, sha256 } from '../canonical-json.js';
import { type DeepReadonly, deepFreeze } from '../deep-freeze.js';
import { ActionError, ApeError, ArgumentsError, messageOf } from '../errors.js';
import { labelOf, sourcesOf, unwrapLabeled } from '../labeled.js';
import { combineLabels, isProvenanceLabel } from '../labels.js';
import { copyPlainArgs } from '../plain-args.js';
import type { ProvenanceLabel, TokenBinding } from '../types.js';
import { formatIssues } from '../validation.js';
import { isTool, type ToolLike } from './tool.js';

/** @internal Where a call to the gate stands; built once per call by {@link prepareArgs} + binding. */
export interface PreparedCall {
  readonly index: number;
  readonly action: string;
  readonly args: DeepReadonly<Record<string, unknown>>;
  readonly provenance: ProvenanceLabel;
  /** Each leaf's label by JSON pointer; `undefined` when the call has no arguments. */
  readonly argLabels: ArgumentLabels | undefined;
  readonly sources: readonly string[];
  readonly argsHash: string;
  /** The canonical JSON of `args`, the text `argsHash` is the sha256 of (serialised once per call). */
  readonly argsText: string;
  readonly binding: TokenBinding;
}

/** @internal The call's arguments as the gate sees them, before they are bound to a token. */
export type PreparedArgs = Omit<PreparedCall, 'binding' | 'index' | 'action'>;

/** @internal A tool reduced to what the gate needs. */
export interface ResolvedTool<Output> {
  readonly run: (args: Readonly<Record<string, unknown>>) => Output | Promise<Output>;
  readonly outputLabel: ProvenanceLabel;
  readonly checkArgs: ((args: unknown) => readonly { path: string; message: string }[]) | undefined;
}

/**
 * @internal The arguments a plan step fixes: the sha256 of their canonical JSON, and that text
 * itself when it is at most {@link MAX_KEPT_ARGS_TEXT} characters, so a step called with the same
 * arguments is recognised by comparing texts and needs no hash of its own.
 */
export interface FixedArgs {
  readonly hash: string;
  readonly text: string | undefined;
}

/** Longer fixed arguments keep only their hash (a plan may have 10,000 steps). */
export const MAX_KEPT_ARGS_TEXT = 1024;

/** @internal The {@link FixedArgs} of a step whose arguments' canonical JSON is `text`. */
export function fixedArgsOf(text: string): FixedArgs {
  return { hash: sha256(text), text: text.length <= MAX_KEPT_ARGS_TEXT ? text : undefined };
}

/** `argsText`'s sha256: taken from `fixed` when the text is the one `fixed` was made from. */
function hashOf(argsText: string, fixed: FixedArgs | undefined): string {
  return fixed !== undefined && fixed.text === argsText ? fixed.hash : sha256(argsText);
}

/**
 * @internal Copies `rawArgs` to plain, frozen JSON, hashes it and labels it: plain values get
 * `declared` (or `defaultProvenance` when the call declares nothing, also for empty args), labelled
 * values their own label, and the call the least trusted of them; each leaf's label is kept by JSON
 * pointer (`argLabels`). `fixed`, a plan step's fixed arguments, spares the hash when the text is theirs.
 * @throws ArgumentsError (`ARGS_INVALID`) for arguments that are not an object of plain JSON.
 */
export function prepareArgs(
  index: number,
  action: string,
  rawArgs: Readonly<Record<string, unknown>> | undefined,
  declared: ProvenanceLabel | undefined,
  defaultProvenance: ProvenanceLabel,
  fixed?: FixedArgs,
): PreparedArgs {
  const args = rawArgs ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new ArgumentsError(`Step ${index} ("${action}"): arguments must be an object.`, {
      step: index,
      action,
    });
  }
  const plainLabel =
    declared === undefined
      ? defaultProvenance
      : isProvenanceLabel(declared)
        ? declared
        : 'EXTERNAL_UNTRUSTED';
  const fast = copyPlainArgs(args, plainLabel);
  if (fast !== undefined) {
    // No labelled value inside: one walk gave the frozen copy and the labels; the text is its
    // canonical JSON (which cannot fail on that copy, but is checked all the same).
    let argsText: string;
    try {
      argsText = canonicalJson(fast.copy);
    } catch (error) {
      throw notPlainJson(index, action, error);
    }
    return {
      args: fast.copy as DeepReadonly<Record<string, unknown>>,
      provenance: fast.sawPlain ? combineLabels(plainLabel) : combineLabels(),
      argLabels: fast.argLabels,
      sources: NO_SOURCES,
      argsHash: hashOf(argsText, fixed),
      argsText,
    };
  }
  let plain: Record<string, unknown>;
  let argsText: string;
  let argLabels: ArgumentLabels | undefined;
  try {
    plain = unwrapLabeled<Record<string, unknown>>(args);
    argsText = canonicalJson(plain);
    argLabels = argumentLabels(args, plainLabel);
  } catch (error) {
    throw notPlainJson(index, action, error);
  }
  return {
    args: deepFreeze(plain),
    provenance: labelOf(args, plainLabel),
    argLabels,
    sources: sourcesOf(args),
    argsHash: hashOf(argsText, fixed),
    argsText,
  };
}

/** What a call whose arguments hold no labelled value names as its sources. */
const NO_SOURCES: readonly string[] = Object.freeze([]);

function notPlainJson(index: number, action: string, error: unknown): ArgumentsError {
  return new ArgumentsError(
    `Step ${index} ("${action}"): arguments are not plain JSON: ${messageOf(error)}`,
    { step: index, action, ...(ApeError.isInstance(error) ? { path: error.details['path'] } : {}) },
    { cause: error },
  );
}

/**
 * @internal Reduces `tool` to what the gate runs. A Tool's id is the action it performs, and only the
 * action id was decided by intent and policy: a step may not name one action and run another
 * (`tool_id` cannot alias a tool).
 * @throws ActionError (`ACTION_INVALID`, `details.field: 'tool'`).
 */
export function resolveTool<Output>(
  tool: ToolLike<Output>,
  step: { readonly action_id: string; readonly tool_id?: string | undefined },
  index: number,
): ResolvedTool<Output> {
  if (typeof tool === 'function')
    return { run: tool, outputLabel: 'EXTERNAL_UNTRUSTED', checkArgs: undefined };
  if (isTool(tool)) {
    const expected = step.action_id;
    if (tool.id !== expected || (step.tool_id !== undefined && step.tool_id !== tool.id)) {
      throw new ActionError(
        `Step ${index} was authorised for action "${expected}"${step.tool_id === undefined ? '' : ` (tool_id "${step.tool_id}")`}; it cannot run tool "${tool.id}".`,
        { step: index, field: 'tool', expected, actual: tool.id },
      );
    }
    const typed = tool as ToolLike<Output> & { run: ResolvedTool<Output>['run'] };
    return { run: typed.run, outputLabel: tool.outputLabel, checkArgs: tool.checkArgs };
  }
  throw new ActionError(`Step ${index}: the tool must be a function or a Tool made with defineTool.`, {
    step: index,
    field: 'tool',
  });
}

/** @internal Checks the args against the tool's schema. @throws ArgumentsError (`ARGS_INVALID`). */
export function checkToolArgs(
  tool: ResolvedTool<unknown>,
  index: number,
  action: string,
  args: DeepReadonly<Record<string, unknown>>,
): void {
  if (tool.checkArgs === undefined) return;
  const issues = tool.checkArgs(args);
  if (issues.length > 0) {
    throw new ArgumentsError(
      `Step ${index} ("${action}"): arguments do not fit the tool's schema: ${formatIssues(issues)}.`,
      { step: index, action, errors: issues },
    );
  }
}
