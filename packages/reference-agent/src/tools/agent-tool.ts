import { ActionError, defineTool, type Tool, type ToolDefinition } from '@ape/core';

/** A JSON Schema object (draft 2020-12), as plain data. */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** What {@link defineAgentTool} takes: a core tool definition plus what a planner needs to know. */
export interface AgentToolDefinition<Output = unknown> extends ToolDefinition<Output> {
  /** One sentence a planner (rule-based or a language model) reads to decide when to use the tool. */
  readonly description: string;
  /** The JSON Schema of the arguments; the gate refuses calls that do not fit it. */
  readonly argsSchema: JsonSchema;
}

/**
 * A tool as the agent holds it: the core {@link Tool} the gate runs, and the description and
 * argument schema a planner reads. Frozen.
 */
export interface AgentTool<Output = unknown> {
  readonly id: string;
  readonly description: string;
  readonly argsSchema: JsonSchema;
  /** The tool made by `defineTool` of `@ape/core`; pass it to `runtime.executeStep`. */
  readonly tool: Tool<Output>;
}

/**
 * Defines a tool for the reference agent: `defineTool` of `@ape/core` (which compiles the argument
 * schema once, so the gate checks every call against it before the policy is asked) plus a
 * description for planners.
 *
 * @throws ActionError (`ACTION_INVALID`) when `description` is empty or `id`/`run` is malformed.
 * @throws ArgumentsError (`ARGS_INVALID`) when `argsSchema` is not a valid JSON Schema.
 */
export function defineAgentTool<Output>(definition: AgentToolDefinition<Output>): AgentTool<Output> {
  if (typeof definition?.description !== 'string' || definition.description.trim() === '') {
    throw new ActionError(
      `defineAgentTool(${String(definition?.id)}): \`description\` must be a non-empty string.`,
      {
        field: 'description',
      },
    );
  }
  const { description, ...toolDefinition } = definition;
  const tool = defineTool(toolDefinition);
  return Object.freeze({ id: tool.id, description, argsSchema: definition.argsSchema, tool });
}
