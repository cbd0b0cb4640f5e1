import { freezeBranded, hasBrand } from '../brand.js';
import type { Ajv2020, ValidateFunction } from 'ajv/dist/2020.js';
import { ajv2020 } from '../ajv-class.js';
import { ActionError, ArgumentsError, messageOf } from '../errors.js';
import { isProvenanceLabel } from '../labels.js';
import type { ProvenanceLabel } from '../types.js';
import { toIssues, type ValidationIssue } from '../validation.js';

const TOOL_BRAND = Symbol.for('ape.tool');

/** A tool as a plain function of its (unwrapped, plain JSON) arguments. */
export type ToolFunction<Output = unknown> = (
  args: Readonly<Record<string, unknown>>,
) => Output | Promise<Output>;

/** What {@link defineTool} takes. */
export interface ToolDefinition<Output = unknown> {
  /**
   * The tool id: the action it performs. The gate runs it only for a step whose `action_id` equals it
   * (and whose `tool_id`, when given, equals it too).
   */
  readonly id: string;
  /** A JSON Schema (draft 2020-12) for the arguments, compiled once; args that do not fit are refused. */
  readonly argsSchema?: Readonly<Record<string, unknown>> | boolean;
  /** The trust label of the tool's output (default `EXTERNAL_UNTRUSTED`). */
  readonly outputLabel?: ProvenanceLabel;
  readonly run: ToolFunction<Output>;
}

/** A tool made with {@link defineTool}: frozen, with its argument schema compiled. */
export interface Tool<Output = unknown> {
  readonly id: string;
  readonly outputLabel: ProvenanceLabel;
  readonly run: ToolFunction<Output>;
  /** Checks arguments against the declared schema; an empty list means they fit (or no schema). */
  readonly checkArgs: (args: unknown) => readonly ValidationIssue[];
  readonly [TOOL_BRAND]: true;
}

/** Either form the gate accepts. */
export type ToolLike<Output = unknown> = Tool<Output> | ToolFunction<Output>;

let ajv: Ajv2020 | undefined;

function toolAjv(): Ajv2020 {
  ajv ??= new (ajv2020())({ allErrors: true, strict: true, allowUnionTypes: true });
  return ajv;
}

const NO_ISSUES: readonly ValidationIssue[] = Object.freeze([]);

/**
 * Defines a tool whose arguments are checked against `argsSchema` before the policy is asked. The
 * schema is compiled once, here, with ajv in strict mode (unknown keywords or formats are errors).
 * @throws ActionError (`ACTION_INVALID`) when `id`, `run` or `outputLabel` is malformed.
 * @throws ArgumentsError (`ARGS_INVALID`) when `argsSchema` is not a valid JSON Schema.
 */
export function defineTool<Output>(definition: ToolDefinition<Output>): Tool<Output> {
  if (typeof definition?.id !== 'string' || definition.id.length === 0) {
    throw new ActionError('defineTool: `id` must be a non-empty string.', { field: 'id' });
  }
  if (typeof definition.run !== 'function') {
    throw new ActionError(`defineTool(${definition.id}): \`run\` must be a function.`, { field: 'run' });
  }
  if (definition.outputLabel !== undefined && !isProvenanceLabel(definition.outputLabel)) {
    throw new ActionError(`defineTool(${definition.id}): \`outputLabel\` must be a provenance label.`, {
      field: 'outputLabel',
    });
  }
  let validate: ValidateFunction | undefined;
  if (definition.argsSchema !== undefined) {
    try {
      validate = toolAjv().compile(definition.argsSchema);
    } catch (error) {
      throw new ArgumentsError(
        `defineTool(${definition.id}): argsSchema is not a valid JSON Schema: ${messageOf(error)}.`,
        { field: 'argsSchema', tool: definition.id },
        { cause: error },
      );
    }
  }
  const checkArgs = (args: unknown): readonly ValidationIssue[] =>
    validate === undefined || validate(args) ? NO_ISSUES : toIssues(validate.errors);
  const tool = {
    id: definition.id,
    outputLabel: definition.outputLabel ?? 'EXTERNAL_UNTRUSTED',
    run: definition.run,
    checkArgs,
  } as Tool<Output>;
  return freezeBranded(tool, TOOL_BRAND);
}

/** True for a tool made with {@link defineTool} (across package copies). */
export function isTool(value: unknown): value is Tool {
  return hasBrand(value, TOOL_BRAND);
}
