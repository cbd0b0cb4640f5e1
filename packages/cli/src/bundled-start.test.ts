import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BUNDLE_FILES,
  type BundleLoad,
  codeCacheFile,
  loadPolicyCommands,
  packageJsonAbove,
  sha256Hex,
} from './bundled-start.js';

// loadPolicyCommands against a scratch "dist" directory beside a node_modules of its own: a small
// CommonJS bundle, its manifest, its packages as installed, and its code cache.

let root: string;
let dist: string;

/** A package as installed: node_modules/<name> with a package.json and an index.js. */
function install(name: string, version: string, under = root): string {
  const directory = join(under, 'node_modules', name);
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, 'package.json'), JSON.stringify({ name, version, main: 'index.js' }));
  writeFileSync(join(directory, 'index.js'), 'module.exports = {};\n');
  return join(directory, 'index.js');
}

/** Writes the bundle and a manifest that matches it (unless `manifest` is given). */
function writeBundle(
  source: string,
  packages: { path: string[]; version: string }[] = [],
  manifest?: unknown,
): void {
  writeFileSync(join(dist, BUNDLE_FILES.bundle), source);
  const sha256 = sha256Hex(Buffer.from(source, 'latin1'));
  writeFileSync(
    join(dist, BUNDLE_FILES.manifest),
    JSON.stringify(manifest ?? { format: 1, sha256, packages }),
  );
}

const GOOD_BUNDLE = `'use strict';
exports.runPolicyCommand = async (argv, io) => { io.stdout.write(argv.join(' ') + '|' + __apeModuleUrl('left-pad') + '|' + require('node:path').basename(__filename)); return 0; };
exports.askFor = (name) => __apeModuleUrl(name);
`;

function failed(load: BundleLoad): string {
  if (load.ok) throw new Error('expected the bundle to be refused');
  return load.reason;
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ape-bundled-start-'));
  dist = join(root, 'dist');
  mkdirSync(dist);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('loadPolicyCommands', () => {
  it('runs a bundle whose hash and package versions match, and tells each package where it is installed', async () => {
    const entry = install('left-pad', '1.3.0');
    writeBundle(GOOD_BUNDLE, [{ path: ['left-pad'], version: '1.3.0' }]);
    const load = loadPolicyCommands(dist);
    expect(load.ok).toBe(true);
    if (!load.ok) return;
    expect(load.cache).toBe('absent');
    let output = '';
    const code = await load.module.runPolicyCommand(['validate', 'x.yaml'], {
      stdout: { write: (text: string) => (output += text) },
      stderr: { write: () => true },
    });
    expect(code).toBe(0);
    expect(output).toBe(`validate x.yaml|${pathToFileURL(entry).href}|${BUNDLE_FILES.bundle}`);
    const askFor = (load.module as unknown as { askFor(name: string): string }).askFor;
    expect(() => askFor('not-listed')).toThrow(
      'the bundle asked where not-listed is, which it does not list',
    );
  });

  it('resolves a package through the one that depends on it, and checks that version', () => {
    install('parent', '2.0.0');
    // The child as the parent resolves it (nested), and another version at the top that must not be used.
    install('child', '1.0.0', join(root, 'node_modules', 'parent'));
    install('child', '9.9.9');
    writeBundle(GOOD_BUNDLE.replace("'left-pad'", "'child'"), [
      { path: ['parent'], version: '2.0.0' },
      { path: ['parent', 'child'], version: '1.0.0' },
    ]);
    expect(loadPolicyCommands(dist).ok).toBe(true);
    writeBundle(GOOD_BUNDLE, [
      { path: ['parent'], version: '2.0.0' },
      { path: ['parent', 'child'], version: '9.9.9' },
    ]);
    expect(failed(loadPolicyCommands(dist))).toBe('parent > child is 1.0.0 here, the bundle has 9.9.9');
  });

  it('uses the code cache made from these bytes, and compiles without a stale, refused or missing one', () => {
    install('left-pad', '1.3.0');
    writeBundle(GOOD_BUNDLE, [{ path: ['left-pad'], version: '1.3.0' }]);
    const first = loadPolicyCommands(dist);
    if (!first.ok) throw new Error(first.reason);
    const sha256 = sha256Hex(readFileSync(join(dist, BUNDLE_FILES.bundle)));
    const cacheFile = join(dist, BUNDLE_FILES.cache);
    writeFileSync(cacheFile, codeCacheFile(sha256, first.script.createCachedData()));
    expect(loadPolicyCommands(dist)).toMatchObject({ ok: true, cache: 'used' });
    expect(loadPolicyCommands(dist, { cache: false })).toMatchObject({ ok: true, cache: 'absent' });
    writeFileSync(cacheFile, codeCacheFile('0'.repeat(64), first.script.createCachedData()));
    expect(loadPolicyCommands(dist)).toMatchObject({ ok: true, cache: 'stale' });
    // Bytes that are not V8's code cache (V8 checks its magic number first), for a bundle this
    // process has not compiled yet (V8 would answer a source it compiled already from its own memory).
    const fresh = `${GOOD_BUNDLE}// not compiled before\n`;
    writeBundle(fresh, [{ path: ['left-pad'], version: '1.3.0' }]);
    writeFileSync(cacheFile, codeCacheFile(sha256Hex(Buffer.from(fresh, 'latin1')), Buffer.alloc(256)));
    expect(loadPolicyCommands(dist)).toMatchObject({ ok: true, cache: 'rejected' });
  });

  it('refuses a bundle that is not the file the build made', () => {
    writeBundle(GOOD_BUNDLE);
    writeFileSync(join(dist, BUNDLE_FILES.bundle), `${GOOD_BUNDLE}// changed\n`);
    expect(failed(loadPolicyCommands(dist))).toBe('policy-commands.cjs is not the file the build made');
  });

  it.each([
    ['not JSON', '{'],
    ['another format', { format: 2, sha256: 'a'.repeat(64), packages: [] }],
    ['a short hash', { format: 1, sha256: 'abc', packages: [] }],
    ['no package list', { format: 1, sha256: 'a'.repeat(64) }],
    ['an empty path', { format: 1, sha256: 'a'.repeat(64), packages: [{ path: [], version: '1.0.0' }] }],
    [
      'a version that is not a string',
      { format: 1, sha256: 'a'.repeat(64), packages: [{ path: ['x'], version: 1 }] },
    ],
    ['a null entry', { format: 1, sha256: 'a'.repeat(64), packages: [null] }],
    ['null', null],
  ])('refuses a manifest with %s', (_, manifest) => {
    writeBundle(GOOD_BUNDLE);
    writeFileSync(
      join(dist, BUNDLE_FILES.manifest),
      typeof manifest === 'string' ? manifest : JSON.stringify(manifest),
    );
    expect(failed(loadPolicyCommands(dist))).toMatch(/policy-commands\.json is not a bundle manifest|JSON/);
  });

  it('refuses when a file is missing or a listed package is not installed', () => {
    expect(failed(loadPolicyCommands(dist))).toMatch(/ENOENT/);
    writeBundle(GOOD_BUNDLE, [{ path: ['left-pad'], version: '1.3.0' }]);
    expect(failed(loadPolicyCommands(dist))).toMatch(/Cannot find module 'left-pad'/);
  });

  it('refuses a package whose package.json names another package', () => {
    const entry = install('left-pad', '1.3.0');
    writeFileSync(
      join(entry, '..', 'package.json'),
      JSON.stringify({ name: 'right-pad', version: '1.3.0', main: 'index.js' }),
    );
    writeBundle(GOOD_BUNDLE, [{ path: ['left-pad'], version: '1.3.0' }]);
    expect(failed(loadPolicyCommands(dist))).toMatch(/^no package\.json of left-pad above /);
  });

  it('refuses a bundle that throws while loading or does not export the commands', () => {
    writeBundle("throw new Error('broken at load');\n");
    expect(failed(loadPolicyCommands(dist))).toBe('broken at load');
    writeBundle('exports.somethingElse = 1;\n');
    expect(failed(loadPolicyCommands(dist))).toBe('policy-commands.cjs does not export runPolicyCommand');
    writeBundle('throw "a string";\n');
    expect(failed(loadPolicyCommands(dist))).toBe('a string');
  });

  it('keeps line numbers: the wrapper is on the bundle’s first line', () => {
    writeBundle(
      "exports.runPolicyCommand = async () => 0;\n\n\nexports.where = () => new Error('here').stack;\n",
    );
    const load = loadPolicyCommands(dist);
    if (!load.ok) throw new Error(load.reason);
    const stack = (load.module as unknown as { where(): string }).where();
    expect(stack).toContain(`${join(dist, BUNDLE_FILES.bundle)}:4:`);
  });
});

describe('packageJsonAbove', () => {
  it('finds the nearest package.json up that it accepts, skipping unreadable and malformed ones', () => {
    const file = join(root, 'a', 'b', 'c', 'index.js');
    mkdirSync(join(root, 'a', 'b', 'c'), { recursive: true });
    writeFileSync(join(root, 'a', 'package.json'), JSON.stringify({ name: 'a', version: '1.0.0' }));
    writeFileSync(join(root, 'a', 'b', 'package.json'), '{ not json');
    writeFileSync(join(root, 'a', 'b', 'c', 'package.json'), 'null');
    expect(packageJsonAbove(file, (json) => typeof json.name === 'string')).toEqual({
      directory: join(root, 'a'),
      json: { name: 'a', version: '1.0.0' },
    });
    expect(packageJsonAbove(file, () => false)).toBeUndefined();
  });
});
