import type { Settings } from '../harness.js';
import type { CaseResult } from '../report.js';

/** What every case gets from the runner. */
export interface CaseContext {
  readonly settings: Settings;
  /**
   * Run the scaling points in child processes (a clean heap per engine and size, and a crash or a
   * time-out of one engine cannot take the run down). Needs the built `dist/run.js`.
   */
  readonly isolate: boolean;
  /** `performance.now()` value by which optional long work must have finished (the 5-minute budget). */
  readonly deadline: number;
  /** Progress lines (stderr), so a long run shows where it is. */
  readonly log: (message: string) => void;
}

/** One benchmark case. To add one, write a module exporting this and list it in `cases/index.ts`. */
export interface BenchCase {
  readonly id: string;
  /** The case number in issue 9, when it has one. */
  readonly number?: number;
  readonly title: string;
  /** Most cases produce one result; a case measuring two things at once (scaling and load) may return several. */
  run(context: CaseContext): Promise<CaseResult | readonly CaseResult[]>;
}
