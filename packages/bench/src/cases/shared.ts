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
