import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { ApeError } from '@ape/core';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkspace, WORKSPACE_ROOT, type Workspace } from './workspace.js';

const opened: Workspace[] = [];

function open(files?: Record<string, string>): Workspace {
  const workspace = createWorkspace(files === undefined ? {} : { files });
  opened.push(workspace);
  return workspace;
}

afterEach(() => {
  for (const workspace of opened.splice(0)) workspace.dispose();
});

function refusal(action: () => unknown): ApeError {
  try {
    action();
  } catch (error) {
    if (ApeError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('createWorkspace', () => {
  it('creates a fresh directory seeded with the given files', () => {
    const workspace = open({ '/workspace/a.txt': 'A', '/workspace/deep/b.txt': 'B' });
    expect(workspace.root).toBe(WORKSPACE_ROOT);
    expect(readFileSync(join(workspace.directory, 'a.txt'), 'utf8')).toBe('A');
    expect(readFileSync(join(workspace.directory, 'deep', 'b.txt'), 'utf8')).toBe('B');
  });

  it('maps virtual paths into the directory and back', () => {
    const workspace = open();
    const real = workspace.resolve('/workspace/x/./y/../z.txt');
    expect(real).toBe(join(workspace.directory, 'x', 'z.txt'));
    expect(workspace.toVirtual(real)).toBe('/workspace/x/z.txt');
    expect(workspace.resolve('/workspace')).toBe(workspace.directory);
    expect(workspace.toVirtual(workspace.directory)).toBe('/workspace');
  });

  it.each([
    '/workspace/../etc/passwd',
    '/workspace/../../../../etc/shadow',
    '/workspace/a/../../outside.txt',
    '/workspacex/file.txt',
    '/etc/passwd',
    '/',
    'notes.txt',
    '../notes.txt',
    './workspace/notes.txt',
    '/workspace/a\\..\\..\\b',
    '/workspace/a\u0000.txt',
    '',
  ])('refuses %j with ARGS_INVALID, reason outside_workspace', (path) => {
    const error = refusal(() => open().resolve(path, 'read_file'));
    expect(error.code).toBe('ARGS_INVALID');
    expect(error.details['reason']).toBe('outside_workspace');
    expect(error.details['tool']).toBe('read_file');
  });

  it.each([42, null, undefined, { path: '/workspace/a' }])('refuses a non-string path %j', (path) => {
    expect(refusal(() => open().resolve(path)).code).toBe('ARGS_INVALID');
  });

  it('refuses a path that leaves the workspace through a planted symbolic link', () => {
    const workspace = open();
    const outside = mkdtempSync(join(tmpdir(), 'ape-outside-'));
    try {
      writeFileSync(join(outside, 'secret.txt'), 'secret');
      symlinkSync(outside, join(workspace.directory, 'link'));
      const error = refusal(() => workspace.resolve('/workspace/link/secret.txt'));
      expect(error.code).toBe('ARGS_INVALID');
      expect(error.details['reason']).toBe('outside_workspace');
      expect(refusal(() => workspace.resolve('/workspace/link/new/file.txt')).code).toBe('ARGS_INVALID');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('refuses seed files outside the workspace', () => {
    expect(refusal(() => createWorkspace({ files: { '/workspace/../evil.txt': 'x' } })).code).toBe(
      'ARGS_INVALID',
    );
  });

  it('removes its directory on dispose, and a second dispose is harmless', () => {
    const workspace = createWorkspace({ files: { '/workspace/a.txt': 'A' } });
    workspace.dispose();
    workspace.dispose();
    expect(existsSync(workspace.directory)).toBe(false);
  });

  it('never resolves any path built from arbitrary segments to a place outside its directory', () => {
    const workspace = open();
    mkdirSync(join(workspace.directory, 'sub'));
    const segment = fc.oneof(fc.constantFrom('..', '.', '', 'sub', 'workspace', 'a.txt', '...'), fc.string());
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), fc.boolean(), (segments, rooted) => {
        const path = `${rooted ? '/workspace/' : '/'}${segments.join('/')}`;
        let real: string;
        try {
          real = workspace.resolve(path);
        } catch (error) {
          return ApeError.isInstance(error) && error.code === 'ARGS_INVALID';
        }
        const difference = relative(workspace.directory, real);
        return difference === '' || !(difference === '..' || difference.startsWith(`..${sep}`));
      }),
    );
  });
});
