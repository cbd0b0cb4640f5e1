import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The repository root, and what these tests load through packages/mcp's own dependencies: the
 * built @ape/mcp, the MCP SDK (ESM build) and the real @modelcontextprotocol/server-filesystem.
 * (@ape/mcp and the SDK are not root dev dependencies, so they are reached through packages/mcp.)
 */
export const root = resolve(import.meta.dirname, '..', '..');
export const apeBin = join(root, 'packages', 'cli', 'dist', 'ape.cjs');
const mcpRequire = createRequire(join(root, 'packages', 'mcp', 'package.json'));
/** dist/esm of the SDK ("./*" of its exports map points there). */
export const sdkDir = dirname(mcpRequire.resolve('@modelcontextprotocol/sdk/package.json'));
/** The filesystem server's entry point (its package "bin"). */
export const filesystemServer = join(
  dirname(mcpRequire.resolve('@modelcontextprotocol/server-filesystem/package.json')),
  'dist',
  'index.js',
);

function load<T>(path: string): Promise<T> {
  return import(pathToFileURL(path).href) as Promise<T>;
}

// biome-ignore lint/suspicious/noExplicitAny: the SDK is loaded by path, without its types
type Module = Record<string, any>;

export const sdk = {
  client: () => load<Module>(join(sdkDir, 'client', 'index.js')),
  stdio: () => load<Module>(join(sdkDir, 'client', 'stdio.js')),
  inMemory: () => load<Module>(join(sdkDir, 'inMemory.js')),
  types: () => load<Module>(join(sdkDir, 'types.js')),
};

/** The built @ape/mcp (run `pnpm --filter @ape/mcp build` first). */
export const apeMcp = () =>
  load<typeof import('../../packages/mcp/src/index.js')>(join(root, 'packages', 'mcp', 'dist', 'index.js'));

/** A child environment without colour or debug switches. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && key !== 'NO_COLOR' && key !== 'APE_DEBUG' && key !== 'FORCE_COLOR')
      env[key] = value;
  }
  return { ...env, ...extra };
}

/** The command line of the real filesystem server, allowed `roots`. */
export function filesystemServerCommand(...roots: string[]): string[] {
  return [process.execPath, filesystemServer, ...roots];
}

/**
 * A stdio transport (not started) to the built `ape mcp proxy` with `flags` (`--policy`, `--audit`,
 * `--redis`, ...) in front of the `server` command line, stderr piped, run in the repository root.
 */
export async function apeProxyTransport(
  flags: readonly string[],
  server: readonly string[],
  env: Record<string, string> = childEnv(),
) {
  const { StdioClientTransport } = await sdk.stdio();
  return new StdioClientTransport({
    command: process.execPath,
    args: [apeBin, 'mcp', 'proxy', ...flags, '--', ...server],
    env,
    stderr: 'pipe',
    cwd: root,
  });
}
