import { hashCanonical } from '@ape/core';

/** The parts of an MCP tool definition the gateway pins. */
export interface PinnableTool {
  readonly name: string;
  readonly description?: string | undefined;
  readonly inputSchema?: unknown;
  readonly outputSchema?: unknown;
}

/**
 * The pin of a tool: sha256 of the canonical JSON of `{ name, description, inputSchema,
 * outputSchema }` (absent fields omitted). Any change to the text a model reads or to the argument
 * schema changes the pin.
 * @throws CanonicalJsonError (`NON_JSON_VALUE`) when the definition is not plain JSON.
 */
export function hashToolDefinition(tool: PinnableTool): string {
  return hashCanonical({
    name: tool.name,
    ...(tool.description === undefined ? {} : { description: tool.description }),
    ...(tool.inputSchema === undefined ? {} : { inputSchema: tool.inputSchema }),
    ...(tool.outputSchema === undefined ? {} : { outputSchema: tool.outputSchema }),
  });
}

/** @internal The pin of `tool`, or `undefined` when it cannot be hashed (such a tool is never served). */
export function pinOf(tool: PinnableTool): string | undefined {
  try {
    return hashToolDefinition(tool);
  } catch {
    return undefined;
  }
}
