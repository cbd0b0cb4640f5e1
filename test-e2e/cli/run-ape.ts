import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root and the built binary the tests run (never the TypeScript sources). */
export const root = resolve(import.meta.dirname, '..', '..');
const cliDirectory = join(root, 'packages', 'cli');
/** The installed `ape` command: the file `bin.ape` of @ape/cli's package.json names (dist/ape.cjs). */
export const bin = join(
  cliDirectory,
  (JSON.parse(readFileSync(join(cliDirectory, 'package.json'), 'utf8')) as { bin: { ape: string } }).bin.ape,
);
/** The ES module program the launcher imports; `node dist/bin.js` runs it directly. */
export const programBin = join(cliDirectory, 'dist', 'bin.js');

/** What one run of the binary printed, and its exit code. */
export interface ApeRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link ape}. */
export interface ApeOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** Runs `node packages/cli/dist/ape.cjs ...args` (the installed command) as a subprocess, without a terminal. */
export function ape(args: readonly string[], options: ApeOptions = {}): ApeRun {
  if (!existsSync(bin)) {
    throw new Error(`${bin} is missing: build first with pnpm --filter @ape/cli... build`);
  }
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && key !== 'NO_COLOR' && key !== 'APE_DEBUG' && key !== 'FORCE_COLOR')
      env[key] = value;
  }
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? root,
    env: { ...env, ...options.env },
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.error !== undefined) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The run failed with exactly one `ape: ...` line on stderr and no stack trace anywhere. */
export function expectOneLineError(result: ApeRun, code: 1 | 2): void {
  if (result.code !== code) {
    throw new Error(
      `expected exit ${code}, got ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
  }
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  if (lines.length !== 1 || !lines[0]?.startsWith('ape: ')) {
    throw new Error(`expected one "ape: ..." line on stderr, got:\n${result.stderr}`);
  }
  expectNoStackTrace(result);
}

/** Nothing printed looks like a stack frame. */
export function expectNoStackTrace(result: ApeRun): void {
  for (const text of [result.stdout, result.stderr]) {
    if (text.includes('    at ') || /^\s+at \S/m.test(text)) {
      throw new Error(`output contains a stack trace:\n${text}`);
    }
  }
}

/** A fresh temporary directory. */
export function createScratch(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'ape-cli-e2e-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
