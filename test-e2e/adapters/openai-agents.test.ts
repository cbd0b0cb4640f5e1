import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstExample, installPacked, type PackedProject, repositoryRoot } from '../packed-install.js';

/**
 * @ape/openai-agents as a user gets it: the packed tarballs of the adapter and the packages its
 * README uses, installed with npm and @openai/agents 0.14 outside the workspace; then the README's
 * first example runs as written.
 */
const root = repositoryRoot;
const PACKAGES = ['core', 'policy', 'authority', 'openai-agents'];
const AGENTS_VERSION = '0.14.3';

let installed: PackedProject | undefined;
let project: string;

beforeAll(() => {
  installed = installPacked(
    'openai-agents-user',
    PACKAGES.map((name) => join(root, 'packages', name)),
    { '@openai/agents': AGENTS_VERSION, zod: '^4.1.8' },
  );
  project = installed.project;
}, 300_000);

afterAll(() => installed?.remove());

describe('@ape/openai-agents installed from its tarball', () => {
  it("runs the README's first example as written", () => {
    writeFileSync(
      join(project, 'example.mjs'),
      firstExample(join(root, 'packages', 'openai-agents', 'README.md')),
    );
    const out = execFileSync(process.execPath, ['example.mjs'], { cwd: project, encoding: 'utf8' });
    expect(out.trim().split('\n')).toEqual(['needs approval: send_email eve@evil.example', 'Done.']);
  });

  it('shows the same complete agent in docs/openai-agents.md', () => {
    expect(firstExample(join(root, 'docs', 'openai-agents.md'))).toBe(
      firstExample(join(root, 'packages', 'openai-agents', 'README.md')),
    );
  });

  it('declares @openai/agents as a peer and bundles none of it', () => {
    const manifest = JSON.parse(
      readFileSync(join(project, 'node_modules', '@ape', 'openai-agents', 'package.json'), 'utf8'),
    ) as { peerDependencies?: Record<string, string>; dependencies?: Record<string, string> };
    expect(manifest.peerDependencies).toEqual({ '@openai/agents': '>=0.14.0 <0.15.0' });
    expect(Object.keys(manifest.dependencies ?? {})).toEqual(['@ape/core']);
    const bundle = readFileSync(
      join(project, 'node_modules', '@ape', 'openai-agents', 'dist', 'index.js'),
      'utf8',
    );
    expect(bundle).not.toContain('class RunState');
    expect(bundle).not.toContain('getStreamedResponse');
  });

  it('imports from CJS too', () => {
    const out = execFileSync(
      process.execPath,
      ['-e', "console.log(typeof require('@ape/openai-agents').createApeOpenAIAgents)"],
      { cwd: project, encoding: 'utf8' },
    );
    expect(out.trim()).toBe('function');
  });
});
