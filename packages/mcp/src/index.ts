/**
 * `@ape/mcp`: put APE in front of any MCP server. A policy-enforcing gateway that speaks MCP on both
 * sides (tools filtered by policy, tool definitions pinned against rug pulls, every `tools/call`
 * authorised by the APE runtime with its real arguments, escalations through MCP elicitation,
 * results labelled untrusted), a stdio proxy for the `ape mcp proxy` command, and a scanner that
 * drafts a starter policy from a server's tools.
 *
 * @packageDocumentation
 */
export type { ApprovalPrompt } from './approval-prompt.js';
export {
  approvalPrompt,
  ELICITATION_APPROVER,
  MAX_APPROVAL_ARGUMENTS,
  MAX_APPROVAL_ARGUMENTS_LENGTH,
} from './approval-prompt.js';
export type { McpAfterDeniedEscalation } from './connection-sessions.js';
export { AFTER_DENIED_ESCALATION_MODES } from './connection-sessions.js';
export type {
  McpGateway,
  McpGatewayCloseReason,
  McpGatewayOptions,
  McpGatewayTool,
} from './gateway.js';
export { createMcpGateway, DEFAULT_MCP_REQUEST_TIMEOUT_MS } from './gateway.js';
export type { InMemoryMcpGateway, InMemoryMcpGatewayOptions } from './in-memory.js';
export { createInMemoryMcpGateway } from './in-memory.js';
export { DEFAULT_FORWARDED_METHODS, GATEWAY_METHODS } from './methods.js';
export { createNoopMcpServer, NOOP_TOOL_NAME } from './noop-server.js';
export { ARG_PROVENANCE_META_KEY, DECISION_META_KEY, PROVENANCE_META_KEY } from './provenance-meta.js';
export type { McpProxyOptions } from './proxy.js';
export { runMcpProxy } from './proxy.js';
export type { DraftedTool, DraftEffect, DraftPolicy, DraftPolicyOptions, McpServerScan } from './scan.js';
export { classifyTool, draftPolicy, scanMcpServer, scanMcpServerCommand } from './scan.js';
export type { McpServerCommand } from './server-config.js';
export { readMcpServerConfig } from './server-config.js';
export type { PinnableTool } from './tool-pins.js';
export { hashToolDefinition } from './tool-pins.js';
