import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_FILES, loadPolicyCommands } from '../bundled-start.js';
import { ALL_COMMANDS } from '../commands.js';
import { createCommandContext } from '../context.js';
import { POLICY_COMMAND_NAMES } from '../policy-command-names.js';
import { POLICY_COMMANDS, runPolicyCommand } from '../policy-commands.js';
import { createProgram } from '../program.js';
import {
  type BundleMetafile,
  type BundlePlugin,
  bundleManifest,
  importMetaUrlPlugin,
  writeBundleArtifacts,
} from './policy-commands-build.js';

const quiet = () => createCommandContext({ stdout: { write: () => true }, stderr: { write: () => true } });

describe('the policy commands', () => {
  it('run through runPolicyCommand, and nothing else does', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ape-policy-commands-'));
    try {
      let output = '';
      const io = {
        stdout: { write: (text: string) => (output += text) },
        stderr: { write: () => true },
        cwd: directory,
      };
      expect(await runPolicyCommand(['init'], io)).toBe(0);
      expect(await runPolicyCommand(['validate', 'ape-policy.yaml'], io)).toBe(0);
      expect(output).toContain('valid ape-policy.yaml');
      let errors = '';
      const audit = await runPolicyCommand(['audit', 'verify', 'x.jsonl'], {
        ...io,
        stderr: { write: (text: string) => (errors += text) },
      });
      expect(audit).toBe(2);
      expect(errors).toContain("unknown command 'audit'");
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('are the commands the launcher routes to the bundle, in the order of the full program', () => {
    const names = createProgram(quiet(), POLICY_COMMANDS).commands.map((command) => command.name());
    expect(names).toEqual([...POLICY_COMMAND_NAMES]);
    const all = createProgram(quiet(), ALL_COMMANDS).commands.map((command) => command.name());
    expect(all.filter((name) => POLICY_COMMAND_NAMES.includes(name))).toEqual(names);
  });
});

/** A scratch tree of packages: `name` → directory, each with a package.json and an index.js. */
let root: string;
function makePackage(directory: string, name: string, version: string): string {
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, 'package.json'), JSON.stringify({ name, version }));
  writeFileSync(join(directory, 'index.js'), '');
  return join(directory, 'index.js');
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ape-bundle-build-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('bundleManifest', () => {
  it('lists every import between built-in packages by the path of names Node resolves it through, with its version', () => {
    const cli = makePackage(join(root, 'cli'), '@ape/cli', '1.0.0');
    const policy = makePackage(join(root, 'policy'), '@ape/policy', '1.2.0');
    const core = makePackage(join(root, 'core'), '@ape/core', '1.1.0');
    const yaml = makePackage(join(root, 'store', 'yaml'), 'yaml', '2.9.1');
    // A nested package.json without a name (a "type" marker) belongs to the package above it.
    mkdirSync(join(root, 'store', 'yaml', 'dist'));
    writeFileSync(join(root, 'store', 'yaml', 'dist', 'package.json'), '{"type":"commonjs"}');
    writeFileSync(join(root, 'store', 'yaml', 'dist', 'compose.js'), '');
    const metafile: BundleMetafile = {
      inputs: {
        [cli]: {
          imports: [
            { path: policy, kind: 'import-statement', original: '@ape/policy' },
            { path: core, kind: 'import-statement', original: '@ape/core' },
            { path: 'node:fs', kind: 'import-statement', external: true, original: 'node:fs' },
          ],
        },
        [policy]: {
          imports: [
            { path: core, kind: 'import-statement', original: '@ape/core' },
            { path: yaml, kind: 'import-statement', original: 'yaml' },
          ],
        },
        [yaml]: {
          imports: [
            {
              path: join(root, 'store', 'yaml', 'dist', 'compose.js'),
              kind: 'require-call',
              original: './dist/compose.js',
            },
          ],
        },
        [join(root, 'store', 'yaml', 'dist', 'compose.js')]: { imports: [] },
        [core]: { imports: [] },
      },
      outputs: {
        'dist/out.cjs': {
          imports: [
            { path: 'node:fs', external: true },
            { path: 'fs', external: true },
          ],
        },
      },
    };
    const manifest = bundleManifest(metafile, new TextEncoder().encode('abc'), join(root, 'cli'));
    expect(manifest).toEqual({
      format: 1,
      sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      packages: [
        { path: ['@ape/core'], version: '1.1.0' },
        { path: ['@ape/policy'], version: '1.2.0' },
        { path: ['@ape/policy', '@ape/core'], version: '1.1.0' },
        { path: ['@ape/policy', 'yaml'], version: '2.9.1' },
      ],
    });
  });

  it('refuses a bundle that imports anything but a Node built-in', () => {
    const metafile: BundleMetafile = {
      inputs: {},
      outputs: {
        'dist/out.cjs': {
          imports: [
            { path: 'node:fs', external: true },
            { path: 'yaml', external: true },
          ],
        },
      },
    };
    expect(() => bundleManifest(metafile, new Uint8Array(), root)).toThrow(
      'dist/out.cjs imports yaml: the bundled program must be self-contained',
    );
  });
});

describe('importMetaUrlPlugin', () => {
  /** The plugin's onLoad callback. */
  function onLoadOf(plugin: BundlePlugin) {
    let callback: ((args: { readonly path: string }) => unknown) | undefined;
    plugin.setup({
      onLoad: (options, registered) => {
        expect(options.filter.test('x.js')).toBe(true);
        callback = registered;
      },
    });
    return callback!;
  }

  it("gives each file's import.meta.url the URL of its package as installed", () => {
    const file = makePackage(join(root, 'meta'), '@ape/meta', '1.0.0');
    writeFileSync(
      file,
      'const load = createRequire(import.meta.url);\nexport const again = import.meta.url;\n',
    );
    expect(onLoadOf(importMetaUrlPlugin())({ path: file })).toEqual({
      contents:
        'const load = createRequire(__apeModuleUrl("@ape/meta"));\nexport const again = __apeModuleUrl("@ape/meta");\n',
      loader: 'js',
    });
  });

  it("writes the packages' lazy loads of ajv and re2js as require calls, which esbuild builds in", () => {
    const file = makePackage(join(root, 'lazy'), '@ape/lazy', '1.0.0');
    writeFileSync(
      file,
      [
        'var load = createRequire(import.meta.url);',
        'ajvClass ??= load("ajv/dist/2020.js").Ajv2020;',
        're2Class ??= load("re2js").RE2JS;',
        'other = load("left-pad");',
        'core ??= createRequire(import.meta.url)("ajv/dist/2020.js").Ajv2020;',
        '',
      ].join('\n'),
    );
    expect(onLoadOf(importMetaUrlPlugin())({ path: file })).toEqual({
      contents: [
        'var load = createRequire(__apeModuleUrl("@ape/lazy"));',
        'ajvClass ??= require("ajv/dist/2020.js").Ajv2020;',
        're2Class ??= require("re2js").RE2JS;',
        'other = load("left-pad");',
        'core ??= require("ajv/dist/2020.js").Ajv2020;',
        '',
      ].join('\n'),
      loader: 'js',
    });
  });

  it('leaves a file without import.meta to esbuild, and refuses any other import.meta use', () => {
    const plain = makePackage(join(root, 'plain'), 'plain', '1.0.0');
    writeFileSync(plain, 'export const x = 1;\n');
    const onLoad = onLoadOf(importMetaUrlPlugin());
    expect(onLoad({ path: plain })).toBeUndefined();
    writeFileSync(plain, 'export const here = import.meta.dirname;\n');
    expect(() => onLoad({ path: plain })).toThrow('uses import.meta beyond import.meta.url');
  });
});

describe('writeBundleArtifacts', () => {
  /** A scratch package with a dist holding a small bundle that `runs` answers for. */
  function scratchPackage(bundle: string): { root: string; dist: string; metafile: BundleMetafile } {
    const directory = mkdtempSync(join(root, 'artifacts-'));
    const entry = makePackage(directory, '@ape/cli', '1.0.0');
    const dependency = makePackage(join(directory, 'node_modules', 'dep'), 'dep', '3.1.0');
    const dist = join(directory, 'dist');
    mkdirSync(dist);
    writeFileSync(join(dist, BUNDLE_FILES.bundle), bundle);
    return {
      root: directory,
      dist,
      metafile: {
        inputs: {
          [entry]: { imports: [{ path: dependency, kind: 'import-statement', original: 'dep' }] },
          [dependency]: { imports: [] },
        },
        outputs: { 'dist/policy-commands.cjs': { imports: [{ path: 'node:fs', external: true }] } },
      },
    };
  }

  it('writes the manifest and a code cache made after the warm-up runs, and makes the bundle ASCII', async () => {
    const {
      root: directory,
      dist,
      metafile,
    } = scratchPackage(
      '// head\u2080 of the chain\nconst seen = [];\nexports.runPolicyCommand = async (argv) => { seen.push(argv[0]); return 0; };\nexports.seen = seen;\n',
    );
    await writeBundleArtifacts(dist, metafile, directory);
    const bundle = readFileSync(join(dist, BUNDLE_FILES.bundle), 'latin1');
    expect(bundle.startsWith('// head\\u2080 of the chain\n')).toBe(true);
    const manifest = JSON.parse(readFileSync(join(dist, BUNDLE_FILES.manifest), 'utf8')) as {
      packages: unknown;
    };
    expect(manifest.packages).toEqual([{ path: ['dep'], version: '3.1.0' }]);
    const load = loadPolicyCommands(dist);
    expect(load).toMatchObject({ ok: true, cache: 'used' });
  });

  it('fails the build when a warm-up run does not exit 0, or the bundle does not load', async () => {
    const failing = scratchPackage(
      "exports.runPolicyCommand = async (argv) => (argv[0] === 'simulate' ? 1 : 0);\n",
    );
    await expect(writeBundleArtifacts(failing.dist, failing.metafile, failing.root)).rejects.toThrow(
      /^warm-up run "ape simulate ape-policy\.yaml read_file .*" exited 1$/,
    );
    const broken = scratchPackage('exports.nothing = 1;\n');
    await expect(writeBundleArtifacts(broken.dist, broken.metafile, broken.root)).rejects.toThrow(
      'the bundled policy commands do not load: policy-commands.cjs does not export runPolicyCommand',
    );
  });
});
