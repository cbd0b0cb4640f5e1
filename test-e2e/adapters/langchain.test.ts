import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstExample, installPacked, type PackedProject, repositoryRoot } from '../packed-install.js';

/**
 * @ape/langchain as a user gets it: the packed tarballs of the adapter and the packages its README
 * uses, installed with npm together with LangChain.js v1 outside the workspace; then the README's
 * first example runs as written.
 */
const root = repositoryRoot;
const PACKAGES = ['core', 'policy', 'authority', 'langchain'];
const FRAMEWORK = {
  langchain: '1.5.14',
  '@langchain/core': '1.4.0',
  '@langchain/langgraph': '1.7.3',
  zod: '^4.1.8',
};

let installed: PackedProject | undefined;
let project: string;

beforeAll(() => {
  installed = installPacked(
    'langchain-user',
    PACKAGES.map((name) => join(root, 'packages', name)),
    FRAMEWORK,
  );
  project = installed.project;
}, 300_000);

afterAll(() => installed?.remove());

describe('@ape/langchain installed from its tarball', () => {
  it("runs the README's first example as written", () => {
    writeFileSync(
      join(project, 'example.mjs'),
      firstExample(join(root, 'packages', 'langchain', 'README.md')),
    );
    const out = execFileSync(process.execPath, ['example.mjs'], { cwd: project, encoding: 'utf8' });
    expect(out.trim().split('\n')).toEqual(['needs approval: send_email eve@evil.example', 'Done.']);
  });

  it('shows the same complete agent in docs/langchain.md', () => {
    expect(firstExample(join(root, 'docs', 'langchain.md'))).toBe(
      firstExample(join(root, 'packages', 'langchain', 'README.md')),
    );
  });

  it('declares LangChain as peers and bundles none of it', () => {
    const dir = join(project, 'node_modules', '@ape', 'langchain');
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      peerDependencies?: Record<string, string>;
      dependencies?: Record<string, string>;
    };
    expect(manifest.peerDependencies).toEqual({
      '@langchain/core': '^1.0.0',
      '@langchain/langgraph': '^1.0.0',
      langchain: '^1.0.0',
    });
    expect(Object.keys(manifest.dependencies ?? {})).toEqual(['@ape/core']);
    const bundle = readFileSync(join(dir, 'dist', 'index.js'), 'utf8');
    expect(bundle).toMatch(/from ["']langchain["']/);
    expect(bundle).toMatch(/from ["']@langchain\/langgraph["']/);
    expect(bundle).not.toContain('class StateGraph');
    expect(bundle).not.toContain('class BaseChatModel');
  });

  it('imports from CJS too', () => {
    const out = execFileSync(
      process.execPath,
      ['-e', "console.log(typeof require('@ape/langchain').createApeLangChain)"],
      {
        cwd: project,
        encoding: 'utf8',
      },
    );
    expect(out.trim()).toBe('function');
  });
});
