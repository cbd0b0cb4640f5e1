import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { ArgumentsError } from '@ape/core';
import type { Workspace } from '../workspace.js';
import { type AgentTool, defineAgentTool } from './agent-tool.js';

/** Files larger than this are not read (the tool returns data to a model, not bulk transfers). */
const MAX_READ_BYTES = 1024 * 1024;
/** Content larger than this is not written. */
const MAX_WRITE_CHARACTERS = 1024 * 1024;

const PATH_PROPERTY = { type: 'string', minLength: 1, maxLength: 4096, pattern: '^/workspace(/|$)' } as const;

/** What `read_file` returns. */
export interface ReadFileOutput {
  readonly path: string;
  readonly content: string;
}

/** What `write_file` returns. */
export interface WriteFileOutput {
  readonly path: string;
  readonly bytes: number;
}

/** What `list_directory` returns. */
export interface ListDirectoryOutput {
  readonly path: string;
  /** Entry names, sorted; directories end with `/`. */
  readonly entries: readonly string[];
}

/** What `delete_file` returns. */
export interface DeleteFileOutput {
  readonly path: string;
  readonly deleted: true;
}

/** The four sandboxed filesystem tools. */
export interface FilesystemTools {
  readonly readFile: AgentTool<ReadFileOutput>;
  readonly writeFile: AgentTool<WriteFileOutput>;
  readonly listDirectory: AgentTool<ListDirectoryOutput>;
  readonly deleteFile: AgentTool<DeleteFileOutput>;
}

/** The arguments schema of a tool whose one argument is a workspace path (a fresh object per tool). */
function pathOnlySchema() {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: { path: PATH_PROPERTY },
  } as const;
}

/**
 * The `path` argument of `tool` and where it is on disk, when it names an existing `kind` inside the
 * workspace; ArgumentsError (`ARGS_INVALID`) otherwise (`outside_workspace` or `not_found`).
 */
function existing(
  workspace: Workspace,
  tool: string,
  args: Readonly<Record<string, unknown>>,
  kind: 'file' | 'directory',
): { path: string; real: string } {
  const path = String(args['path']);
  const real = workspace.resolve(path, tool);
  if (!existsSync(real) || !(kind === 'file' ? statSync(real).isFile() : statSync(real).isDirectory())) {
    throw new ArgumentsError(`${tool}: ${path} is not a ${kind}.`, {
      field: 'path',
      tool,
      reason: 'not_found',
    });
  }
  return { path, real };
}

/**
 * Creates `read_file`, `write_file`, `list_directory` and `delete_file`, confined to `workspace`.
 *
 * The policy decides whether a call may run; these tools check again, on their own, that every path
 * stays inside the workspace ({@link Workspace.resolve}), so a loose policy or a bug elsewhere cannot
 * turn them into a way out (defence in depth). Paths are virtual (`/workspace/notes.txt`); outputs
 * carry the default `EXTERNAL_UNTRUSTED` label because file contents are data, not instructions.
 *
 * Each tool throws ArgumentsError (`ARGS_INVALID`) for a path outside the workspace
 * (`details.reason: 'outside_workspace'`) or a missing file (`details.reason: 'not_found'`).
 */
export function createFilesystemTools(workspace: Workspace): FilesystemTools {
  const readFile = defineAgentTool<ReadFileOutput>({
    id: 'read_file',
    description: 'Reads a UTF-8 text file inside /workspace.',
    argsSchema: pathOnlySchema(),
    run(args) {
      const { path, real } = existing(workspace, 'read_file', args, 'file');
      if (statSync(real).size > MAX_READ_BYTES) {
        throw new ArgumentsError(`read_file: ${path} is larger than ${MAX_READ_BYTES} bytes.`, {
          field: 'path',
          tool: 'read_file',
          reason: 'too_large',
        });
      }
      return { path, content: readFileSync(real, 'utf8') };
    },
  });

  const writeFile = defineAgentTool<WriteFileOutput>({
    id: 'write_file',
    description: 'Writes UTF-8 text to a file inside /workspace, creating parent directories.',
    argsSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['path', 'content'],
      properties: { path: PATH_PROPERTY, content: { type: 'string', maxLength: MAX_WRITE_CHARACTERS } },
    },
    run(args) {
      const path = String(args['path']);
      const content = String(args['content']);
      const real = workspace.resolve(path, 'write_file');
      mkdirSync(dirname(real), { recursive: true });
      writeFileSync(real, content, 'utf8');
      return { path, bytes: Buffer.byteLength(content, 'utf8') };
    },
  });

  const listDirectory = defineAgentTool<ListDirectoryOutput>({
    id: 'list_directory',
    description: 'Lists the entries of a directory inside /workspace (directories end with "/").',
    argsSchema: pathOnlySchema(),
    run(args) {
      const { path, real } = existing(workspace, 'list_directory', args, 'directory');
      const entries = readdirSync(real, { withFileTypes: true })
        .map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name))
        .sort();
      return { path, entries };
    },
  });

  const deleteFile = defineAgentTool<DeleteFileOutput>({
    id: 'delete_file',
    description: 'Deletes one file inside /workspace (never a directory).',
    argsSchema: pathOnlySchema(),
    run(args) {
      const { path, real } = existing(workspace, 'delete_file', args, 'file');
      unlinkSync(real);
      return { path, deleted: true };
    },
  });

  return Object.freeze({ readFile, writeFile, listDirectory, deleteFile });
}
