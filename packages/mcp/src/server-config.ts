import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigurationError, messageOf } from '@ape/core';

/** How to start an MCP server over stdio: what an `mcpServers` entry holds. */
export interface McpServerCommand {
  readonly command: string;
  readonly args: readonly string[];
  /** Extra environment variables for the server, on top of the environment of the process that starts it. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

const MAX_CONFIG_BYTES = 1024 * 1024;

function invalid(file: string, field: string, message: string): ConfigurationError {
  return new ConfigurationError(`${file}: ${field}: ${message}`, { file, field });
}

function stringRecord(value: unknown, file: string, field: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(file, field, 'must be an object of strings.');
  }
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw invalid(file, `${field}.${key}`, 'must be a string.');
    out[key] = item;
  }
  return out;
}

/**
 * Reads one server of an MCP client configuration file (the usual `{ "mcpServers": { "<name>": {
 * "command", "args"?, "env"?, "cwd"? } } }` of desktop clients). A relative `cwd` is resolved
 * against the file's directory.
 * @throws ConfigurationError (`CONFIG_INVALID`) naming the file and field: unreadable file, bad
 * JSON, no such server, or a malformed entry (for example one with a `url` instead of a `command`).
 */
export function readMcpServerConfig(file: string, name: string): McpServerCommand {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw invalid(file, '$', `cannot read the file (${messageOf(error)}).`);
  }
  if (text.length > MAX_CONFIG_BYTES) throw invalid(file, '$', 'the file is larger than 1 MiB.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalid(file, '$', `not valid JSON (${messageOf(error)}).`);
  }
  const servers = (parsed as { mcpServers?: unknown } | null)?.mcpServers;
  if (typeof servers !== 'object' || servers === null || Array.isArray(servers)) {
    throw invalid(
      file,
      'mcpServers',
      'missing: expected { "mcpServers": { "<name>": { "command": ... } } }.',
    );
  }
  if (!Object.hasOwn(servers, name)) {
    const known = Object.keys(servers).join(', ') || 'none';
    throw invalid(file, `mcpServers.${name}`, `no such server (known: ${known}).`);
  }
  const entry: unknown = (servers as Record<string, unknown>)[name];
  const field = `mcpServers.${name}`;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    throw invalid(file, field, 'must be an object.');
  const { command, args, env, cwd } = entry as Record<string, unknown>;
  if (typeof command !== 'string' || command.length === 0) {
    throw invalid(
      file,
      `${field}.command`,
      'must be a non-empty string (only stdio servers can be proxied).',
    );
  }
  if (args !== undefined && (!Array.isArray(args) || args.some((arg) => typeof arg !== 'string'))) {
    throw invalid(file, `${field}.args`, 'must be an array of strings.');
  }
  if (cwd !== undefined && typeof cwd !== 'string') throw invalid(file, `${field}.cwd`, 'must be a string.');
  return {
    command,
    args: (args as string[] | undefined) ?? [],
    ...(env === undefined ? {} : { env: stringRecord(env, file, `${field}.env`) }),
    ...(cwd === undefined ? {} : { cwd: resolve(dirname(file), cwd) }),
  };
}

/**
 * @internal The environment a server is started with: this process's (the MCP client that launched
 * the proxy already chose it) plus `server.env`.
 */
export function serverEnvironment(server: McpServerCommand): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  return { ...env, ...server.env };
}
