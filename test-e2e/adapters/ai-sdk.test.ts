import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstExample, installPacked, type PackedProject, repositoryRoot } from '../packed-install.js';

/**
 * @ape/ai-sdk as a user gets it: the packed tarballs of the adapter and the packages its README
 * uses, installed with npm and the AI SDK 6 outside the workspace; then the README's first example
 * runs as written.
 */
const root = repositoryRoot;
const PACKAGES = ['core', 'policy', 'authority', 'ai-sdk'];
const AI_VERSION = '6.0.325';

let installed: PackedProject | undefined;
let project: string;

beforeAll(() => {
  installed = installPacked(
    'ai-sdk-user',
    PACKAGES.map((name) => join(root, 'packages', name)),
    { ai: AI_VERSION, zod: '^4.1.8' },
  );
  project = installed.project;
}, 300_000);

afterAll(() => installed?.remove());

describe('@ape/ai-sdk installed from its tarball', () => {
  it("runs the README's first example as written", () => {
    writeFileSync(join(project, 'example.mjs'), firstExample(join(root, 'packages', 'ai-sdk', 'README.md')));
    const out = execFileSync(process.execPath, ['example.mjs'], { cwd: project, encoding: 'utf8' });
    expect(out.trim().split('\n')).toEqual(['needs approval: send_email eve@evil.example', 'Done.']);
  });

  it('shows the same complete agent in docs/ai-sdk.md', () => {
    expect(firstExample(join(root, 'docs', 'ai-sdk.md'))).toBe(
      firstExample(join(root, 'packages', 'ai-sdk', 'README.md')),
    );
  });

  it('declares ai as a peer and bundles none of it', () => {
    const manifest = JSON.parse(
      readFileSync(join(project, 'node_modules', '@ape', 'ai-sdk', 'package.json'), 'utf8'),
    ) as { peerDependencies?: Record<string, string>; dependencies?: Record<string, string> };
    expect(manifest.peerDependencies).toEqual({ ai: '^6.0.0' });
    expect(Object.keys(manifest.dependencies ?? {})).toEqual(['@ape/core']);
    const bundle = readFileSync(join(project, 'node_modules', '@ape', 'ai-sdk', 'dist', 'index.js'), 'utf8');
    expect(bundle).not.toMatch(/from ["']ai["']/);
    expect(bundle).not.toContain('MockLanguageModelV3');
  });

  it('imports from CJS too', () => {
    const out = execFileSync(
      process.execPath,
      ['-e', "console.log(typeof require('@ape/ai-sdk').createApeAiSdk)"],
      { cwd: project, encoding: 'utf8' },
    );
    expect(out.trim()).toBe('function');
  });
});
