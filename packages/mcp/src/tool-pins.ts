import { deepFreeze, hashCanonical } from '@ape/core';

/**
 * An MCP tool definition as the server lists it: `name` and every other field (`title`,
 * `description`, `inputSchema`, `outputSchema`, `annotations`, `_meta`, `icons`, and any field a
 * later protocol version adds).
 */
export interface PinnableTool {
  readonly name: string;
  readonly [field: string]: unknown;
}

/**
 * The pin of a tool: sha256 of the canonical JSON of the **whole** definition, every field as the
 * server listed it (fields whose value is `undefined` omitted). Any change to what a client shows
 * (`title`, `icons`), what a model reads (`description`, schemas), what a client trusts
 * (`annotations` such as `readOnlyHint`, used to auto-approve) or `_meta` changes the pin.
 * @throws CanonicalJsonError (`NON_JSON_VALUE`) when the definition is not plain JSON.
 */
export function hashToolDefinition(tool: PinnableTool): string {
  return hashCanonical(tool);
}

/** @internal A tool definition with its pin, frozen: the copy the gateway serves. */
export interface PinnedTool<T extends PinnableTool> {
  readonly pin: string;
  readonly definition: T;
}

/**
 * @internal `tool` pinned: a deep-frozen copy (the one the gateway serves, never the server's
 * object) and its pin, or `undefined` when it cannot be hashed (such a tool is never served).
 */
export function pinTool<T extends PinnableTool>(tool: T): PinnedTool<T> | undefined {
  try {
    const definition = deepFreeze(structuredClone(tool)) as T;
    return { pin: hashToolDefinition(definition), definition };
  } catch {
    return undefined;
  }
}
