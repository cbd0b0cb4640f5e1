import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Packages as a user gets them: packed with `pnpm pack` (which rewrites `workspace:` ranges as
 * publishing does) and installed with npm into a scratch project outside the workspace. Shared by
 * the publish check and the adapters' README checks.
 */

/** The repository root. */
export const repositoryRoot = resolve(import.meta.dirname, '..');

/** Runs pnpm: the one running this suite when there is one, else the pinned version through npx. */
export function pnpm(args: readonly string[], cwd: string): string {
  const [command, prefix] = process.env['npm_execpath']?.includes('pnpm')
    ? [process.execPath, [process.env['npm_execpath']]]
    : ['npx', ['-y', 'pnpm@10.34.8']];
  return execFileSync(command, [...prefix, ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A scratch project with packed packages installed; `remove()` deletes it. */
export interface PackedProject {
  /** The project directory (its `node_modules` holds the installed tarballs). */
  readonly project: string;
  remove(): void;
}

/**
 * Packs each package directory, then installs the tarballs (as dependencies and as overrides, so
 * their own `@ape/*` dependencies resolve to the tarballs too) with `extra` dependencies from the
 * registry, into a fresh project named `name`.
 */
export function installPacked(
  name: string,
  packageDirs: readonly string[],
  extra: Readonly<Record<string, string>> = {},
): PackedProject {
  const scratch = mkdtempSync(join(tmpdir(), `ape-${name}-`));
  const tarballs = join(scratch, 'tarballs');
  mkdirSync(tarballs);
  const packed: Record<string, string> = {};
  for (const dir of packageDirs) {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string };
    pnpm(['pack', '--pack-destination', tarballs], dir);
    const base = manifest.name.replace('@', '').replace('/', '-');
    const file = readdirSync(tarballs).find(
      (entry) => entry.startsWith(`${base}-`) && entry.endsWith('.tgz'),
    );
    if (file === undefined) throw new Error(`pnpm pack produced no tarball for ${manifest.name}`);
    packed[manifest.name] = `file:${join(tarballs, file)}`;
  }
  const project = join(scratch, 'project');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify(
      { name, private: true, type: 'module', dependencies: { ...packed, ...extra }, overrides: packed },
      null,
      2,
    ),
  );
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: project,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { project, remove: () => rmSync(scratch, { recursive: true, force: true }) };
}

/** The first fenced `js` block of a Markdown file. */
export function firstExample(file: string): string {
  const match = /```js\n([\s\S]*?)\n```/.exec(readFileSync(file, 'utf8'));
  if (match?.[1] === undefined) throw new Error(`${file} has no js example`);
  return match[1];
}
