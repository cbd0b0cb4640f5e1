import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  BUNDLE_FILES,
  type BundledPackage,
  type BundleManifest,
  codeCacheFile,
  loadPolicyCommands,
  packageJsonAbove,
  sha256Hex,
} from '../bundled-start.js';

// Build steps of the bundled policy commands (dist/policy-commands.cjs), run by tsup.config.ts: the
// esbuild plugin that gives each built-in package's code its own `import.meta.url`, the manifest of
// what the bundle holds, and the V8 code cache. Not part of the published program.

/** The parts of esbuild's metafile these steps read. */
export interface BundleMetafile {
  readonly inputs: Readonly<
    Record<
      string,
      {
        readonly imports: readonly {
          readonly path: string;
          readonly kind: string;
          readonly external?: boolean;
          readonly original?: string;
        }[];
      }
    >
  >;
  readonly outputs: Readonly<
    Record<string, { readonly imports: readonly { readonly path: string; readonly external?: boolean }[] }>
  >;
}

/** The parts of an esbuild plugin this step uses. */
export interface BundlePlugin {
  readonly name: string;
  setup(build: {
    onLoad(
      options: { readonly filter: RegExp },
      callback: (args: { readonly path: string }) => { contents: string; loader: 'js' } | undefined,
    ): void;
  }): void;
}

interface PackageInfo {
  readonly directory: string;
  readonly name: string;
  readonly version: string;
}

/** The package `file` belongs to: the nearest package.json up that has a name. */
function packageOf(file: string, cache: Map<string, PackageInfo>): PackageInfo {
  const start = resolve(file);
  const known = cache.get(dirname(start));
  if (known !== undefined) return known;
  const found = packageJsonAbove(start, (json) => typeof json.name === 'string');
  if (found === undefined) throw new Error(`no named package.json above ${file}`);
  const { directory, json } = found;
  const info = {
    directory,
    name: json.name as string,
    version: typeof json.version === 'string' ? json.version : '',
  };
  cache.set(dirname(start), info);
  return info;
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier);
}

/**
 * The lazy loads of `@ape/core` and `@ape/policy` (ajv for argument schemas, re2js for patterns), made
 * through `createRequire(import.meta.url)` so that a policy without them never loads them, written as
 * `require` calls, which esbuild builds in and still runs only when called. A test checks that the
 * bundle holds both packages: a load that stops matching here would otherwise go on resolving at run
 * time, correct but slower.
 */
const LAZY_LOADS: readonly RegExp[] = [
  /\bcreateRequire\(import\.meta\.url\)\(("[^"]+")\)/g,
  /\bload\(("(?:ajv\/dist\/2020\.js|re2js)")\)/g,
];

function buildInLazyLoads(text: string): string {
  let result = text;
  for (const pattern of LAZY_LOADS) result = result.replace(pattern, 'require($1)');
  return result;
}

/**
 * The esbuild plugin that writes the lazy loads as `require` calls ({@link LAZY_LOADS}) and replaces
 * every other `import.meta.url` in a bundled file with `__apeModuleUrl("<its package>")`: the
 * launcher answers with the URL of that package as installed, so a `createRequire(import.meta.url)`
 * left as it is resolves where it does unbundled. Any other `import.meta` use fails the build.
 */
export function importMetaUrlPlugin(): BundlePlugin {
  const packages = new Map<string, PackageInfo>();
  return {
    name: 'ape-import-meta-url',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?js$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes('import.meta')) return undefined;
        const text = buildInLazyLoads(source);
        const contents = text.replaceAll(
          'import.meta.url',
          `__apeModuleUrl(${JSON.stringify(packageOf(args.path, packages).name)})`,
        );
        if (contents.includes('import.meta')) {
          throw new Error(
            `${args.path} uses import.meta beyond import.meta.url, which the bundle cannot give`,
          );
        }
        return { contents, loader: 'js' };
      });
    },
  };
}

/**
 * The manifest of the bundle: its sha256 and, for every import of one package by another inside it,
 * how Node reaches the imported package from the CLI (`root`) and its version. Throws when the
 * bundle imports anything but Node's built-in modules: the bundled program must not load a second
 * copy of a package.
 */
export function bundleManifest(metafile: BundleMetafile, bundle: Uint8Array, root: string): BundleManifest {
  for (const [output, { imports }] of Object.entries(metafile.outputs)) {
    for (const entry of imports) {
      if (entry.external === true && !isBuiltin(entry.path)) {
        throw new Error(`${output} imports ${entry.path}: the bundled program must be self-contained`);
      }
    }
  }
  const packages = new Map<string, PackageInfo>();
  const rootPackage = packageOf(join(root, 'package.json'), packages);
  const edges = new Map<string, Map<string, PackageInfo>>();
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    const from = packageOf(input, packages);
    for (const entry of imports) {
      if (entry.external === true || entry.original === undefined) continue;
      if (entry.original.startsWith('.') || entry.original.startsWith('/')) continue;
      const to = packageOf(entry.path, packages);
      if (to.directory === from.directory) continue;
      const targets = edges.get(from.directory) ?? new Map<string, PackageInfo>();
      targets.set(to.directory, to);
      edges.set(from.directory, targets);
    }
  }
  // Breadth first from the CLI: each package's shortest path of names, as Node resolves them. Then
  // every import between two packages is listed through that path: a package two others import (ajv,
  // from @ape/core and from @ape/policy) is checked as each of them resolves it.
  const paths = new Map<string, readonly string[]>([[rootPackage.directory, []]]);
  const queue = [rootPackage.directory];
  const listed: BundledPackage[] = [];
  while (queue.length > 0) {
    const directory = queue.shift()!;
    const base = paths.get(directory)!;
    const targets = [...(edges.get(directory)?.values() ?? [])].sort((a, b) => a.name.localeCompare(b.name));
    for (const target of targets) {
      listed.push({ path: [...base, target.name], version: target.version });
      if (paths.has(target.directory)) continue;
      paths.set(target.directory, [...base, target.name]);
      queue.push(target.directory);
    }
  }
  return { format: 1, sha256: sha256Hex(bundle), packages: listed };
}

/**
 * Makes the bundle ASCII, which the launcher reads it as. esbuild already escapes every other
 * character in code (its default charset); what it leaves are the comments it keeps, where a
 * character written as `\u2080` reads the same. Returns the file's bytes.
 */
function asciiBundle(file: string): Buffer {
  const text = readFileSync(file, 'utf8');
  const ascii = text.replace(
    /[\u0080-\uffff]/g,
    (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  if (ascii !== text) writeFileSync(file, ascii);
  return Buffer.from(ascii, 'latin1');
}

/** Output that goes nowhere, for the warm-up runs. */
function quietIo(cwd: string) {
  const sink = { write: () => true };
  return { stdout: sink, stderr: sink, env: {}, cwd };
}

/**
 * Writes the manifest and the V8 code cache of the bundle in `directory`. The cache is made after
 * `init`, `validate` and `simulate` have run on the starter policy (which has argument schemas), so
 * it holds the functions they compile (ajv's included), not only the top level. A larger cache costs
 * every start more than it saves the rarer commands (docs/performance.md, twelfth session). Throws
 * when the bundle does not load or a warm-up run fails.
 */
export async function writeBundleArtifacts(
  directory: string,
  metafile: BundleMetafile,
  root: string,
): Promise<void> {
  const bytes = asciiBundle(join(directory, BUNDLE_FILES.bundle));
  const manifest = bundleManifest(metafile, bytes, root);
  writeFileSync(join(directory, BUNDLE_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
  rmSync(join(directory, BUNDLE_FILES.cache), { force: true });
  const load = loadPolicyCommands(directory, { cache: false });
  if (!load.ok) throw new Error(`the bundled policy commands do not load: ${load.reason}`);
  const work = mkdtempSync(join(tmpdir(), 'ape-cli-warm-'));
  try {
    const runs: readonly (readonly string[])[] = [
      ['init'],
      ['validate', 'ape-policy.yaml'],
      ['simulate', 'ape-policy.yaml', 'read_file', '--args', '{"path":"/workspace/a.txt"}'],
    ];
    for (const argv of runs) {
      const code = await load.module.runPolicyCommand(argv, quietIo(work));
      if (code !== 0) throw new Error(`warm-up run "ape ${argv.join(' ')}" exited ${code}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  writeFileSync(
    join(directory, BUNDLE_FILES.cache),
    codeCacheFile(manifest.sha256, load.script.createCachedData()),
  );
}
