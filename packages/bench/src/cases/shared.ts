import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseResult, Row, TargetResult } from '../report.js';
import type { BenchCase } from './context.js';

/** Throws when an engine's answers differ from the expected decisions (the encodings must agree). */
export function expectDecisions(
  engine: string,
  actual: readonly string[],
  expected: readonly string[],
): void {
  const mismatch = expected.findIndex((decision, index) => actual[index] !== decision);
  if (mismatch >= 0 || actual.length !== expected.length) {
    throw new Error(
      `${engine} answered [${actual.join(', ')}] where [${expected.join(', ')}] was expected; the encodings disagree.`,
    );
  }
}

/** A function returning the items of `items` in turn, forever. */
export function rotate<T>(items: readonly T[]): () => T {
  let index = 0;
  const count = items.length;
  return () => {
    const item = items[index] as T;
    index = index + 1 === count ? 0 : index + 1;
    return item;
  };
}

/** The result of a case (its id, number and title) with its rows, targets and notes. */
export function caseResult(
  benchCase: Pick<BenchCase, 'id' | 'number' | 'title'>,
  rows: readonly Row[],
  targets: readonly TargetResult[],
  notes: readonly string[],
): CaseResult {
  return {
    id: benchCase.id,
    ...(benchCase.number === undefined ? {} : { number: benchCase.number }),
    title: benchCase.title,
    rows,
    targets,
    notes,
  };
}

/** The directory holding `policies/example_policy.yaml`, searched upwards from this module. */
export function repositoryRoot(): string | undefined {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(directory, 'policies', 'example_policy.yaml'))) return directory;
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

/** The `ape` binary of the installed @ape/cli, if it is built. */
export function cliBinary(): string | undefined {
  try {
    const manifestPath = createRequire(import.meta.url).resolve('@ape/cli/package.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
      bin?: string | Record<string, string>;
    };
    const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.['ape'];
    if (bin === undefined) return undefined;
    const path = resolve(dirname(manifestPath), bin);
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}
