import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * @ape/langchain as a user gets it: the packed tarballs of the adapter and the packages its README
 * uses, installed with npm together with LangChain.js v1 outside the workspace; then the README's
 * first example runs as written.
 */
const root = resolve(import.meta.dirname, '..', '..');
const PACKAGES = ['core', 'policy', 'authority', 'langchain'];
const FRAMEWORK = {
  langchain: '1.5.14',
  '@langchain/core': '1.4.0',
  '@langchain/langgraph': '1.7.3',
  zod: '^4.1.8',
};

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
  scratch = mkdtempSync(join(tmpdir(), 'ape-langchain-'));
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
        name: 'langchain-user',
        private: true,
        type: 'module',
        dependencies: { ...dependencies, ...FRAMEWORK },
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
