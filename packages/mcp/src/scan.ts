import { ApeError, InternalError, isActionId, messageOf } from '@ape/core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type Implementation, ListToolsResultSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { Document, isMap, isSeq, type YAMLMap, type YAMLSeq } from 'yaml';
import { type McpServerCommand, serverEnvironment } from './server-config.js';

/** What {@link scanMcpServer} found. */
export interface McpServerScan {
  readonly serverInfo: Implementation | undefined;
  readonly tools: readonly Tool[];
}

/** How the draft treats one tool. */
export type DraftEffect = 'allow' | 'escalate' | 'deny' | 'skip';

/** One tool of a {@link DraftPolicy}, with the heuristic that classified it. */
export interface DraftedTool {
  readonly name: string;
  readonly effect: DraftEffect;
  /** Why: which name word or annotation decided it. */
  readonly why: string;
}

/** A starter policy drafted from a server's tools. */
export interface DraftPolicy {
  /** The policy as commented YAML, valid for `ape validate`, to be reviewed by a human. */
  readonly text: string;
  readonly tools: readonly DraftedTool[];
}

/** Options of {@link draftPolicy}. */
export interface DraftPolicyOptions {
  /** The policy's name; default: derived from the server's name. */
  readonly name?: string;
}

/** Name words of tools that destroy data or state: denied in the draft. */
const DESTRUCTIVE_WORDS: ReadonlySet<string> = new Set([
  'delete',
  'remove',
  'rm',
  'rmdir',
  'unlink',
  'destroy',
  'drop',
  'purge',
  'wipe',
  'erase',
  'truncate',
  'kill',
  'terminate',
  'uninstall',
  'reset',
  'format',
  'revoke',
]);

/** Name words of tools that only read: allowed in the draft. */
const READ_WORDS: ReadonlySet<string> = new Set([
  'read',
  'get',
  'list',
  'search',
  'find',
  'query',
  'view',
  'show',
  'describe',
  'fetch',
  'lookup',
  'stat',
  'info',
  'inspect',
  'count',
  'tree',
  'cat',
  'head',
  'tail',
  'check',
  'status',
]);

/** JSON Schema keywords kept when a tool's input schema is copied into `when.args`. */
const KEPT_KEYWORDS: ReadonlySet<string> = new Set([
  'type',
  'properties',
  'required',
  'items',
  'enum',
  'const',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'uniqueItems',
  'additionalProperties',
  'anyOf',
  'oneOf',
  'allOf',
  'not',
  'description',
  'title',
  'default',
]);

/**
 * Connects to an MCP server over `transport`, lists every tool (all pages) and closes.
 * @throws InternalError (`INTERNAL`) when the server cannot be reached or listed.
 */
export async function scanMcpServer(
  transport: Transport,
  options: { readonly timeoutMs?: number } = {},
): Promise<McpServerScan> {
  const client = new Client({ name: 'ape-mcp-scan', version: '1.0.0' });
  const timeout = options.timeoutMs ?? 60_000;
  try {
    await client.connect(transport, { timeout });
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.request(
        { method: 'tools/list', params: cursor === undefined ? {} : { cursor } },
        ListToolsResultSchema,
        { timeout },
      );
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return { serverInfo: client.getServerVersion(), tools };
  } catch (error) {
    throw new InternalError(`Cannot scan the MCP server: ${messageOf(error)}`, {}, { cause: error });
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** How much of a server's stderr a failed scan quotes: its last characters, where the error usually is. */
const STDERR_TAIL = 300;

/**
 * Starts `server` over stdio (this process's environment plus `server.env`), scans it like
 * {@link scanMcpServer} and stops it. The server's stderr is kept, not shown: when the scan fails,
 * the error quotes its last lines, so a server that cannot start says why.
 * @throws InternalError (`INTERNAL`) when the server cannot be started or listed; `details.stderr` holds
 * the end of the server's stderr, when it wrote any.
 */
export async function scanMcpServerCommand(
  server: McpServerCommand,
  options: { readonly timeoutMs?: number } = {},
): Promise<McpServerScan> {
  const transport = new StdioClientTransport({
    command: server.command,
    args: [...server.args],
    env: serverEnvironment(server),
    stderr: 'pipe',
    ...(server.cwd === undefined ? {} : { cwd: server.cwd }),
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer | string) => {
    stderr = (stderr + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'))).slice(-4 * STDERR_TAIL);
  });
  try {
    return await scanMcpServer(transport, options);
  } catch (error) {
    // The stream may still hold the last lines of a server that just exited.
    await new Promise((resolve) => setImmediate(resolve));
    const tail = stderr.trim();
    if (tail === '' || !ApeError.isInstance(error)) throw error;
    const quoted = tail.length > STDERR_TAIL ? `…${tail.slice(-STDERR_TAIL)}` : tail;
    throw new InternalError(
      `${error.message}; the server's stderr: ${quoted}`,
      { stderr: tail },
      { cause: error },
    );
  }
}

/**
 * Classifies a tool. In order: a name that is not an action id is skipped; a destructive name word
 * (delete, remove, drop, …) denies; `readOnlyHint: true` or a read name word (read, get, list, …)
 * allows; anything else (write, edit, create, move, send, run, …) escalates.
 */
export function classifyTool(tool: Pick<Tool, 'name' | 'annotations'>): DraftedTool {
  const name = tool.name;
  if (!isActionId(name)) return { name, effect: 'skip', why: 'the name is not a valid APE action id' };
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 0);
  const destructive = words.find((word) => DESTRUCTIVE_WORDS.has(word));
  if (destructive !== undefined)
    return { name, effect: 'deny', why: `destructive name word "${destructive}"` };
  if (tool.annotations?.readOnlyHint === true)
    return { name, effect: 'allow', why: 'annotated readOnlyHint' };
  const read = words.find((word) => READ_WORDS.has(word));
  if (read !== undefined && tool.annotations?.readOnlyHint !== false) {
    return { name, effect: 'allow', why: `read-like name word "${read}"` };
  }
  const hint = tool.annotations?.destructiveHint === true ? ', annotated destructiveHint' : '';
  return { name, effect: 'escalate', why: `may write or act${hint}` };
}

/** @internal A copy of a tool's input schema reduced to keywords the policy loader accepts. */
export function argsSchemaOf(schema: unknown): Record<string, unknown> {
  const copied = copySchema(schema);
  return typeof copied === 'object' && copied !== null && !Array.isArray(copied)
    ? (copied as Record<string, unknown>)
    : { type: 'object' };
}

function copySchema(schema: unknown): unknown {
  if (typeof schema === 'boolean') return schema;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!KEPT_KEYWORDS.has(key)) continue;
    if (key === 'properties') {
      if (typeof value !== 'object' || value === null) continue;
      const properties: Record<string, unknown> = {};
      for (const [property, child] of Object.entries(value)) properties[property] = copySchema(child);
      out[key] = properties;
    } else if (key === 'items' || key === 'not' || key === 'additionalProperties') {
      out[key] = copySchema(value);
    } else if (key === 'anyOf' || key === 'oneOf' || key === 'allOf') {
      if (Array.isArray(value)) out[key] = value.map(copySchema);
    } else {
      out[key] = value;
    }
  }
  const properties = out['properties'];
  if (Array.isArray(out['required'])) {
    // The loader refuses `required` names that `properties` does not declare.
    const declared = typeof properties === 'object' && properties !== null ? properties : {};
    const required = out['required'].filter(
      (name): name is string => typeof name === 'string' && Object.hasOwn(declared, name),
    );
    if (required.length > 0) out['required'] = required;
    else delete out['required'];
  }
  return out;
}

function policyNameOf(scan: McpServerScan, options: DraftPolicyOptions): string {
  const base = options.name ?? `${scan.serverInfo?.name ?? 'mcp-server'}-draft`;
  const cleaned = base.replace(/[^A-Za-z0-9_.:-]+/g, '-').replace(/^[^A-Za-z0-9_]+/, '');
  return (cleaned.length === 0 ? 'mcp-server-draft' : cleaned).slice(0, 128);
}

/**
 * Drafts a starter policy from a scan (heuristics: {@link classifyTool}; docs/mcp.md). Every valid
 * tool appears in `actions`; allowed and escalated tools get a rule whose `when.args` is the tool's
 * input schema (a starting point to narrow, for example with `x-ape-path`); destructive tools are in
 * `forbidden_actions`. The text starts with comments saying it is a draft for a human to review.
 */
export function draftPolicy(scan: McpServerScan, options: DraftPolicyOptions = {}): DraftPolicy {
  const drafted = scan.tools.map(classifyTool);
  const byName = new Map(scan.tools.map((tool) => [tool.name, tool]));
  const valid = drafted.filter((tool) => tool.effect !== 'skip');
  const rules: Record<string, unknown>[] = [];
  const ruleNotes: string[] = [];
  for (const tool of valid) {
    if (tool.effect !== 'allow' && tool.effect !== 'escalate') continue;
    rules.push({
      id: `${tool.name.slice(0, 120)}.${tool.effect}`,
      actions: [tool.name],
      effect: tool.effect,
      when: { args: argsSchemaOf(byName.get(tool.name)?.inputSchema) },
      reason:
        tool.effect === 'allow'
          ? `Drafted: "${tool.name}" looks read-only (${tool.why}).`
          : `Drafted: "${tool.name}" may change things (${tool.why}); a human approves each call.`,
    });
    ruleNotes.push(`${tool.name}: ${tool.effect} (${tool.why})`);
  }
  const forbidden = valid.filter((tool) => tool.effect === 'deny').map((tool) => tool.name);
  const document = new Document({
    version: 1,
    name: policyNameOf(scan, options),
    description: `DRAFT generated by "ape mcp scan" from ${scan.serverInfo?.name ?? 'an MCP server'}'s tools; review before use.`,
    actions: valid.map((tool) => tool.name),
    ...(forbidden.length === 0 ? {} : { forbidden_actions: forbidden }),
    ...(rules.length === 0 ? {} : { rules }),
  });
  const skipped = drafted.filter((tool) => tool.effect === 'skip').map((tool) => tool.name);
  document.commentBefore = [
    ' DRAFT POLICY, generated by "ape mcp scan". A starting point for a human, not a finished policy.',
    '',
    ' Heuristics (docs/mcp.md): a destructive name word (delete, remove, drop, ...) -> forbidden;',
    ' readOnlyHint or a read-like name word (read, get, list, search, ...) -> allow; anything else',
    " -> escalate (a human approves each call). Each rule copies the tool's input schema into",
    ' when.args: narrow it before use, for example paths with x-ape-path: { roots: [/your/dir] }.',
    ' Anything not allowed here is denied (default deny).',
    ...(skipped.length === 0
      ? []
      : ['', ` Skipped (name is not a valid action id, so the gateway refuses them): ${skipped.join(', ')}`]),
  ].join('\n');
  const rulesNode = document.get('rules');
  if (isSeq(rulesNode)) {
    (rulesNode as YAMLSeq).items.forEach((item, index) => {
      if (isMap(item)) (item as YAMLMap).commentBefore = ` ${ruleNotes[index] ?? ''}`;
    });
  }
  const forbiddenNode = document.get('forbidden_actions');
  if (isSeq(forbiddenNode)) {
    forbiddenNode.commentBefore = ' Destructive by name: never allowed until a human writes a narrower rule.';
  }
  return { text: document.toString({ lineWidth: 110 }), tools: drafted };
}
