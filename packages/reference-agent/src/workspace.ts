import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix, relative, sep } from 'node:path';
import { ArgumentsError } from '@ape/core';

/** The path every workspace is presented under, to the model, to the policy and in the audit log. */
export const WORKSPACE_ROOT = '/workspace';

/** Options of {@link createWorkspace}. */
export interface WorkspaceOptions {
  /** Files to create, keyed by workspace path (`/workspace/notes.txt`) and holding UTF-8 text. */
  readonly files?: Readonly<Record<string, string>>;
  /** The directory to create the temporary workspace in (default: the OS temporary directory). */
  readonly parentDirectory?: string;
}

/**
 * A sandbox directory the filesystem tools are confined to. Tools, the model and the policy only
 * ever see virtual paths under {@link WORKSPACE_ROOT}; {@link Workspace.resolve} maps one to a real
 * path inside {@link Workspace.directory}, or refuses it.
 */
export interface Workspace {
  /** The virtual root, always {@link WORKSPACE_ROOT}. */
  readonly root: string;
  /** The real directory on disk (a fresh temporary directory). */
  readonly directory: string;
  /**
   * Maps a virtual path to a real one inside {@link directory}.
   * @throws ArgumentsError (`ARGS_INVALID`, `details.reason: 'outside_workspace'`) when the path is not
   *   a string, is empty, contains a NUL or a backslash, is relative, or leaves the workspace once
   *   `.`/`..` segments and symbolic links are resolved.
   */
  resolve(path: unknown, tool?: string): string;
  /** Maps a real path inside {@link directory} back to its virtual path. */
  toVirtual(realPath: string): string;
  /** Deletes the directory and everything in it. Safe to call twice. */
  dispose(): void;
}

function refuse(path: unknown, tool: string | undefined, why: string): ArgumentsError {
  const shown = typeof path === 'string' ? JSON.stringify(path) : typeof path;
  return new ArgumentsError(`${tool ?? 'workspace'}: path ${shown} is refused: ${why}.`, {
    field: 'path',
    reason: 'outside_workspace',
    ...(tool === undefined ? {} : { tool }),
  });
}

/** True when `child` is `parent` itself or lies below it (both absolute, normalised, real). */
function isWithin(parent: string, child: string): boolean {
  const difference = relative(parent, child);
  return (
    difference === '' ||
    (!difference.startsWith(`..${sep}`) && difference !== '..' && !difference.startsWith(sep))
  );
}

/** The real path of `path`, or of its nearest existing ancestor joined with the missing rest. */
function realPathOfNearest(path: string): string {
  let existing = path;
  const missing: string[] = [];
  for (;;) {
    try {
      return join(realpathSync(existing), ...missing.reverse());
    } catch {
      const parent = dirname(existing);
      if (parent === existing) return path;
      missing.push(basename(existing));
      existing = parent;
    }
  }
}

/**
 * Creates a fresh temporary workspace, optionally seeded with files. The filesystem tools of this
 * package resolve every path through it: this is a second wall behind the policy's own path rules
 * (defence in depth), so a policy written too loosely still cannot make a tool touch a file outside
 * the workspace.
 *
 * @throws ArgumentsError (`ARGS_INVALID`) when a seed file's path is outside the workspace.
 */
export function createWorkspace(options: WorkspaceOptions = {}): Workspace {
  const directory = realpathSync(mkdtempSync(join(options.parentDirectory ?? tmpdir(), 'ape-workspace-')));
  let disposed = false;

  const workspace: Workspace = {
    root: WORKSPACE_ROOT,
    directory,
    resolve(path: unknown, tool?: string): string {
      if (typeof path !== 'string' || path.length === 0)
        throw refuse(path, tool, 'a path must be a non-empty string');
      if (path.includes('\0') || path.includes('\\'))
        throw refuse(path, tool, 'it contains a NUL byte or a backslash');
      if (!path.startsWith('/'))
        throw refuse(path, tool, `it is relative; write it under ${WORKSPACE_ROOT}/`);
      const normalised = posix.resolve(path);
      if (normalised !== WORKSPACE_ROOT && !normalised.startsWith(`${WORKSPACE_ROOT}/`)) {
        throw refuse(path, tool, `it is outside ${WORKSPACE_ROOT}`);
      }
      const real = join(directory, ...normalised.slice(WORKSPACE_ROOT.length).split('/').filter(Boolean));
      // A symbolic link planted inside the workspace must not lead out of it either.
      if (!isWithin(directory, realPathOfNearest(real))) {
        throw refuse(path, tool, 'it leads outside the workspace through a symbolic link');
      }
      return real;
    },
    toVirtual(realPath: string): string {
      const rest = relative(directory, realPath).split(sep).filter(Boolean);
      return rest.length === 0 ? WORKSPACE_ROOT : `${WORKSPACE_ROOT}/${rest.join('/')}`;
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      rmSync(directory, { recursive: true, force: true });
    },
  };

  for (const [path, text] of Object.entries(options.files ?? {})) {
    const real = workspace.resolve(path, 'createWorkspace');
    mkdirSync(dirname(real), { recursive: true });
    writeFileSync(real, text, 'utf8');
  }
  return workspace;
}
