import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import type { ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';

// How the launcher starts the policy commands (validate, simulate, explain, test, init) from one
// bundled CommonJS file with a V8 code cache, instead of the ES module program: Node then reads about
// a dozen files instead of about 130 and compiles almost nothing. The bundle runs only when it is exactly
// what the build made and every package built into it has the version installed beside the CLI;
// otherwise the launcher runs the unbundled program, which behaves the same.

/** @internal The bundled program, its manifest and its code cache, in the CLI's dist directory. */
export const BUNDLE_FILES = Object.freeze({
  bundle: 'policy-commands.cjs',
  manifest: 'policy-commands.json',
  cache: 'policy-commands.cache',
});

/** @internal One package built into the bundle. */
export interface BundledPackage {
  /**
   * How Node reaches it from the CLI: `['@ape/policy', 'yaml']` is the `yaml` that `@ape/policy`
   * resolves, itself resolved from the CLI.
   */
  readonly path: readonly string[];
  readonly version: string;
}

/** @internal What the build records beside the bundle (`policy-commands.json`). */
export interface BundleManifest {
  readonly format: 1;
  /** sha256 (hex) of the bundle's bytes. */
  readonly sha256: string;
  readonly packages: readonly BundledPackage[];
}

/** @internal What the bundle exports (policy-commands.ts). */
export interface PolicyCommandsModule {
  runPolicyCommand(argv: readonly string[], io: CliIo): Promise<ExitCode>;
}

/** @internal Whether the code cache was used: `rejected` when V8 refused it (another Node version). */
export type CodeCacheUse = 'used' | 'absent' | 'rejected' | 'stale';

/** @internal The bundle, loaded, or why it was not. */
export type BundleLoad =
  | {
      readonly ok: true;
      readonly module: PolicyCommandsModule;
      readonly cache: CodeCacheUse;
      /** The compiled script, for the build to make the code cache from. */
      readonly script: Script;
    }
  | { readonly ok: false; readonly reason: string };

/**
 * The code cache file starts with the sha256 (64 hex characters) of the bundle it was made from, then
 * V8's data. V8 itself checks only its own version, its flags and the source's length.
 */
const CACHE_HASH_LENGTH = 64;

// The bundle is wrapped as Node wraps a CommonJS module, on the same line as its first line (line
// numbers in stack traces stay right), with one more parameter: the URL each built-in package's code
// sees as `import.meta.url` (its installed entry), so that a `createRequire(import.meta.url)` the
// build did not write as a `require` resolves where it does unbundled.
const WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname, __apeModuleUrl) {';
const WRAPPER_TAIL = '\n})';

/** @internal The hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** @internal A code cache file's bytes: `sha256` of the bundle, then V8's data. */
export function codeCacheFile(sha256: string, data: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(sha256, 'latin1'), data]);
}

function parseManifest(text: string): BundleManifest {
  const value: unknown = JSON.parse(text);
  const manifest = value as Partial<BundleManifest> | null;
  const wellFormed =
    typeof manifest === 'object' &&
    manifest !== null &&
    manifest.format === 1 &&
    typeof manifest.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(manifest.sha256) &&
    Array.isArray(manifest.packages) &&
    manifest.packages.every(
      (entry: Partial<BundledPackage> | null) =>
        typeof entry === 'object' &&
        entry !== null &&
        typeof entry.version === 'string' &&
        Array.isArray(entry.path) &&
        entry.path.length > 0 &&
        entry.path.every((name) => typeof name === 'string' && name !== ''),
    );
  if (!wellFormed) throw new Error(`${BUNDLE_FILES.manifest} is not a bundle manifest`);
  return manifest as BundleManifest;
}

/** The fields of a package.json that the launcher and the build read. */
export interface PackageJsonFields {
  readonly name?: unknown;
  readonly version?: unknown;
}

/**
 * @internal The nearest package.json above `file` (from its directory up) that `accept`s, with its
 * directory; `undefined` when none up to the root does. An unreadable or malformed one is skipped.
 */
export function packageJsonAbove(
  file: string,
  accept: (json: PackageJsonFields) => boolean,
): { readonly directory: string; readonly json: PackageJsonFields } | undefined {
  for (let directory = dirname(file); ; directory = dirname(directory)) {
    let json: PackageJsonFields | undefined;
    try {
      json = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as PackageJsonFields;
    } catch {
      // None here, or not JSON: look further up.
    }
    if (json !== undefined && json !== null && accept(json)) return { directory, json };
    if (dirname(directory) === directory) return undefined;
  }
}

/** The `version` of the package `name` that `file` belongs to (the nearest such package.json up). */
function installedVersion(file: string, name: string): string {
  const found = packageJsonAbove(file, (json) => json.name === name && typeof json.version === 'string');
  if (found === undefined) throw new Error(`no package.json of ${name} above ${file}`);
  return found.json.version as string;
}

/**
 * Resolves every package of the manifest as the unbundled program would and compares versions.
 * Returns the file each package name resolves to (first path wins), or throws with the difference.
 */
function checkPackages(manifest: BundleManifest, from: string): ReadonlyMap<string, string> {
  const resolved = new Map<string, string>();
  const files = new Map<string, string>();
  for (const entry of manifest.packages) {
    let base = from;
    for (let depth = 0; depth < entry.path.length; depth++) {
      const name = entry.path[depth]!;
      const key = entry.path.slice(0, depth + 1).join('\u0000');
      let file = resolved.get(key);
      if (file === undefined) {
        file = createRequire(base).resolve(name);
        resolved.set(key, file);
      }
      base = file;
    }
    const name = entry.path[entry.path.length - 1]!;
    const version = installedVersion(base, name);
    if (version !== entry.version) {
      throw new Error(`${entry.path.join(' > ')} is ${version} here, the bundle has ${entry.version}`);
    }
    if (!files.has(name)) files.set(name, base);
  }
  return files;
}

/**
 * @internal Loads the bundled policy commands from `directory` (the CLI's dist): checks the bundle's
 * hash against its manifest and every built-in package's version against the installed one, then
 * compiles it with its code cache when the cache was made from these bytes. Never throws: any
 * failure is `{ ok: false, reason }`, and the caller runs the unbundled program.
 */
export function loadPolicyCommands(
  distDirectory: string,
  options: { readonly cache?: boolean } = {},
): BundleLoad {
  try {
    const directory = resolve(distDirectory);
    const bundlePath = join(directory, BUNDLE_FILES.bundle);
    const manifest = parseManifest(readFileSync(join(directory, BUNDLE_FILES.manifest), 'utf8'));
    const bytes = readFileSync(bundlePath);
    const sha256 = sha256Hex(bytes);
    if (sha256 !== manifest.sha256) throw new Error(`${BUNDLE_FILES.bundle} is not the file the build made`);
    const files = checkPackages(manifest, bundlePath);
    let cachedData: Buffer | undefined;
    let cache: CodeCacheUse = 'absent';
    if (options.cache !== false) {
      try {
        const file = readFileSync(join(directory, BUNDLE_FILES.cache));
        if (file.toString('latin1', 0, CACHE_HASH_LENGTH) === sha256) {
          cachedData = file.subarray(CACHE_HASH_LENGTH);
        } else {
          cache = 'stale';
        }
      } catch {
        // No cache: compile.
      }
    }
    // The build checks that the bundle is ASCII (esbuild escapes everything else), and the hash above
    // that these are its bytes: latin1 decodes them as UTF-8 would, without a UTF-8 decoder's work.
    const script = new Script(WRAPPER_HEAD + bytes.toString('latin1') + WRAPPER_TAIL, {
      filename: bundlePath,
      ...(cachedData === undefined ? {} : { cachedData }),
    });
    if (cachedData !== undefined) cache = script.cachedDataRejected === true ? 'rejected' : 'used';
    const moduleUrl = (name: string): string => {
      const file = files.get(name);
      if (file === undefined) throw new Error(`the bundle asked where ${name} is, which it does not list`);
      return pathToFileURL(file).href;
    };
    const module = { exports: {} as Partial<PolicyCommandsModule> };
    const wrapper = script.runInThisContext() as (...parameters: unknown[]) => void;
    wrapper.call(
      module.exports,
      module.exports,
      createRequire(bundlePath),
      module,
      bundlePath,
      directory,
      moduleUrl,
    );
    if (typeof module.exports.runPolicyCommand !== 'function') {
      throw new Error(`${BUNDLE_FILES.bundle} does not export runPolicyCommand`);
    }
    return { ok: true, module: module.exports as PolicyCommandsModule, cache, script };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}
