import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

/** The one tool of {@link createNoopMcpServer}. */
export const NOOP_TOOL_NAME = 'noop';

const NOOP_TOOLS = Object.freeze({
  tools: [
    {
      name: NOOP_TOOL_NAME,
      description: 'Does nothing and answers at once.',
      inputSchema: { type: 'object' as const, properties: { value: { type: 'string' } } },
    },
  ],
});

const NOOP_RESULT = Object.freeze({ content: [] });

/**
 * An MCP server with one tool, `noop`, that returns an empty result at once: the baseline for
 * measuring what the gateway adds per `tools/call` (connect it to a transport yourself).
 */
export function createNoopMcpServer(): Server {
  const server = new Server({ name: 'ape-noop', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => NOOP_TOOLS);
  server.setRequestHandler(CallToolRequestSchema, () => NOOP_RESULT);
  return server;
}
