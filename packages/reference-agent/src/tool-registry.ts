import { ActionError } from '@ape/core';
import type { AgentTool, JsonSchema } from './tools/agent-tool.js';

/** What a planner is told about one tool. */
export interface ToolDescription {
  readonly id: string;
  readonly description: string;
  readonly argsSchema: JsonSchema;
}

/** The tools an agent may use, by id. Immutable once created. */
export interface ToolRegistry {
  /** The tool ids, in registration order. */
  readonly ids: readonly string[];
  /** Whether a tool with this id is registered. */
  has(id: string): boolean;
  /**
   * The tool with this id.
   * @throws ActionError (`ACTION_INVALID`) when no such tool is registered.
   */
  get(id: string): AgentTool;
  /** Every tool's id, description and argument schema, for planners. */
  describe(): readonly ToolDescription[];
}

/**
 * Creates a registry of tools.
 * @throws ActionError (`ACTION_INVALID`) when two tools share an id.
 */
export function createToolRegistry(tools: readonly AgentTool[]): ToolRegistry {
  const byId = new Map<string, AgentTool>();
  for (const tool of tools) {
    if (byId.has(tool.id)) {
      throw new ActionError(`Tool registry: the tool id "${tool.id}" is registered twice.`, {
        field: 'id',
        tool: tool.id,
      });
    }
    byId.set(tool.id, tool);
  }
  const ids = Object.freeze([...byId.keys()]);
  const descriptions = Object.freeze(
    tools.map((tool) =>
      Object.freeze({ id: tool.id, description: tool.description, argsSchema: tool.argsSchema }),
    ),
  );
  return Object.freeze({
    ids,
    has: (id: string) => byId.has(id),
    get(id: string): AgentTool {
      const tool = byId.get(id);
      if (tool === undefined) {
        throw new ActionError(`No tool "${id}" is registered; known tools: ${ids.join(', ')}.`, {
          field: 'action_id',
          tool: id,
        });
      }
      return tool;
    },
    describe: () => descriptions,
  });
}
