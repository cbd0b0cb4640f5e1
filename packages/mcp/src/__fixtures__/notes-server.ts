import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  type CallToolResult,
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { vi } from 'vitest';

/** A downstream MCP server for the gateway's tests, with spies on everything that reaches it. */
export interface NotesServer {
  readonly server: Server;
  /** Every tool the server ran: `(name, args)`, from a request or (lenient) a notification. */
  readonly calls: ReturnType<typeof vi.fn>;
  /** The method of every request and notification that reached the server outside tools/*. */
  readonly received: string[];
  setDescription(name: string, description: string): Promise<void>;
  /** Replaces fields of a tool's definition and announces it (`notifications/tools/list_changed`). */
  change(name: string, fields: Readonly<Record<string, unknown>>): Promise<void>;
}

/**
 * Three tools (`read_note`, `write_note`, `delete_note`) with a title, annotations, `_meta` and
 * icons. A **lenient** server: like some real ones, it runs a `tools/call` that arrives as a
 * notification (without an id), and it answers any other request, so that what the gateway lets
 * through is visible.
 */
export function createNotesServer(): NotesServer {
  const definitions = new Map<string, Tool>(
    [
      ['read_note', 'Reads a note.', true],
      ['write_note', 'Writes a note.', false],
      ['delete_note', 'Deletes a note.', false],
    ].map(([name, description, readOnly]) => [
      name as string,
      {
        name: name as string,
        title: `${name as string} (notes)`,
        description: description as string,
        inputSchema: { type: 'object' as const, properties: { path: { type: 'string' } } },
        annotations: { readOnlyHint: readOnly as boolean },
        _meta: { 'notes/version': 1 },
        icons: [{ src: 'https://notes.example/icon.png', mimeType: 'image/png' }],
      },
    ]),
  );
  const calls = vi.fn((name: string, args: unknown): CallToolResult => {
    return { content: [{ type: 'text', text: `${name} ${JSON.stringify(args)}` }] };
  });
  const received: string[] = [];
  const server = new Server(
    { name: 'notes', version: '1.0.0' },
    { capabilities: { tools: { listChanged: true }, resources: {} } },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [...definitions.values()] }));
  server.setRequestHandler(CallToolRequestSchema, (request) =>
    calls(request.params.name, request.params.arguments),
  );
  server.fallbackRequestHandler = async (request) => {
    received.push(request.method);
    return {};
  };
  server.fallbackNotificationHandler = async (notification) => {
    received.push(notification.method);
    const params = notification.params as { name?: unknown; arguments?: unknown } | undefined;
    if (notification.method === 'tools/call' && typeof params?.name === 'string') {
      calls(params.name, params.arguments);
    }
  };
  const change = async (name: string, fields: Readonly<Record<string, unknown>>): Promise<void> => {
    const definition = definitions.get(name);
    if (definition === undefined) throw new Error(`no tool ${name}`);
    definitions.set(name, { ...definition, ...fields } as Tool);
    await server.sendToolListChanged();
  };
  return {
    server,
    calls,
    received,
    change,
    setDescription: (name, description) => change(name, { description }),
  };
}
