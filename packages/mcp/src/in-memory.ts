import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { createMcpGateway, type McpGateway, type McpGatewayOptions } from './gateway.js';

/** Options of {@link createInMemoryMcpGateway}: the gateway's, minus the transports. */
export interface InMemoryMcpGatewayOptions extends Omit<McpGatewayOptions, 'transportUp' | 'transportDown'> {
  /** The downstream server, not yet connected (for example {@link createNoopMcpServer}). */
  readonly server: Server;
  /** Capabilities the in-memory client declares (for example `{ elicitation: {} }`); default none. */
  readonly clientCapabilities?: ClientCapabilities;
}

/** A gateway wired in memory: `client` → `gateway` → `server`. */
export interface InMemoryMcpGateway {
  /** A connected SDK client talking to the gateway. */
  readonly client: Client;
  readonly gateway: McpGateway;
  /** Closes the client, the gateway and the server. */
  close(): Promise<void>;
}

/**
 * Wires an SDK client, a gateway and `server` over in-memory transports: for tests, embedding and
 * the benchmark of the gateway's added latency (no process, no pipe).
 */
export async function createInMemoryMcpGateway(
  options: InMemoryMcpGatewayOptions,
): Promise<InMemoryMcpGateway> {
  const { server, clientCapabilities, ...gatewayOptions } = options;
  const [downClient, downServer] = InMemoryTransport.createLinkedPair();
  const [upClient, upServer] = InMemoryTransport.createLinkedPair();
  await server.connect(downServer);
  const gateway = await createMcpGateway({
    ...gatewayOptions,
    transportUp: upServer,
    transportDown: downClient,
  });
  const client = new McpClient(
    { name: 'ape-in-memory-client', version: '1.0.0' },
    { capabilities: clientCapabilities ?? {} },
  );
  await client.connect(upClient);
  return {
    client,
    gateway,
    close: async () => {
      await client.close().catch(() => undefined);
      await gateway.close();
      await server.close().catch(() => undefined);
    },
  };
}
