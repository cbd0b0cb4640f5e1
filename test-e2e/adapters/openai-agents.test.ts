import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * @ape/openai-agents as a user gets it: the packed tarballs of the adapter and the packages its
 * README uses, installed with npm and @openai/agents 0.14 outside the workspace; then the README's
 * first example runs as written.
 */
const root = resolve(import.meta.dirname, '..', '..');
const PACKAGES = ['core', 'policy', 'authority', 'openai-agents'];
const AGENTS_VERSION = '0.14.3';

function pnpm(args: string[], cwd: string): string {
  const [command, prefix] = process.env['npm_execpath']?.includes('pnpm')
    ? [process.execPath, [process.env['npm_execpath']]]
    : ['npx', ['-y', 'pnpm@10.34.8']];
  return execFileSync(command, [...prefix, ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The first fenced `js` block of a Markdown file. */
function firstExample(file: string): string {
  const match = /```js\n([\s\S]*?)\n```/.exec(readFileSync(file, 'utf8'));
  if (match?.[1] === undefined) throw new Error(`${file} has no js example`);
  return match[1];
}

let scratch: string;
let project: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'ape-openai-agents-'));
  const tarballs = join(scratch, 'tarballs');
  mkdirSync(tarballs);
  const dependencies: Record<string, string> = {};
  for (const name of PACKAGES) {
    pnpm(['pack', '--pack-destination', tarballs], join(root, 'packages', name));
    const file = readdirSync(tarballs).find(
      (entry) => entry.startsWith(`ape-${name}-`) && entry.endsWith('.tgz'),
    );
    if (file === undefined) throw new Error(`pnpm pack produced no tarball for @ape/${name}`);
    dependencies[`@ape/${name}`] = `file:${join(tarballs, file)}`;
  }
  project = join(scratch, 'project');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify(
      {
        name: 'openai-agents-user',
        private: true,
        type: 'module',
        dependencies: { ...dependencies, '@openai/agents': AGENTS_VERSION, zod: '^4.1.8' },
        overrides: dependencies,
      },
      null,
      2,
    ),
  );
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: project,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}, 300_000);

afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

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
