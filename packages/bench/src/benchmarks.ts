import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_BUDGET_SECONDS } from './budget.js';
import { CASES } from './cases/index.js';
import type { CaseContext } from './cases/context.js';
import { settingsFor } from './harness.js';
import { machineInfo } from './machine.js';
import { cedarVersion } from './peers/cedar.js';
import type { BenchReport, CaseResult, Engine } from './report.js';

/** Options of {@link runBenchmarks}. */
export interface RunOptions {
  /** One sample per row and small sizes: the smoke test. */
  readonly quick: boolean;
  /** Run scaling points in child processes (needs the built dist/run.js). Default: `!quick`. */
  readonly isolate?: boolean;
  /** Seconds the whole run may take; long optional work is cut short to fit. Default 220. */
  readonly budgetSeconds?: number;
  /** Only the cases with these ids (default: all). */
  readonly only?: readonly string[];
  readonly log?: (message: string) => void;
}

/** The version of an installed package, found the way Node.js looks for it (some peers export no package.json). */
function packageVersion(name: string): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(directory, 'node_modules', name, 'package.json');
    if (existsSync(manifest))
      return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
    const parent = dirname(directory);
    if (parent === directory) return 'unknown';
    directory = parent;
  }
}

/** Runs every case and returns the report (the runner writes it to bench/results/latest.json). */
export async function runBenchmarks(options: RunOptions): Promise<BenchReport> {
  const started = performance.now();
  const log = options.log ?? (() => undefined);
  const context: CaseContext = {
    settings: settingsFor(options.quick),
    isolate: options.isolate ?? !options.quick,
    deadline: started + (options.budgetSeconds ?? DEFAULT_BUDGET_SECONDS) * 1000,
    log,
  };
  const results: CaseResult[] = [];
  for (const benchCase of CASES) {
    if (options.only !== undefined && !options.only.includes(benchCase.id)) continue;
    log(`case ${benchCase.number ?? benchCase.id}: ${benchCase.title}`);
    const outcome = await benchCase.run(context);
    results.push(...(Array.isArray(outcome) ? outcome : [outcome as CaseResult]));
  }
  results.sort(
    (left, right) => (left.number ?? Number.MAX_SAFE_INTEGER) - (right.number ?? Number.MAX_SAFE_INTEGER),
  );
  const caps: { engine: Engine; size: number; reason: string }[] = [];
  for (const result of results) {
    if (result.id !== 'scaling-decision') continue;
    for (const row of result.rows) {
      if (row.status === 'measured') continue;
      caps.push({
        engine: row.engine,
        size: Number(row.extra?.['rules'] ?? 0),
        reason: row.note ?? row.status,
      });
    }
  }
  return {
    schemaVersion: 1,
    date: new Date().toISOString(),
    mode: options.quick ? 'quick' : 'full',
    durationMs: Math.round(performance.now() - started),
    machine: machineInfo(),
    versions: {
      cedar: cedarVersion(),
      '@cedar-policy/cedar-wasm': packageVersion('@cedar-policy/cedar-wasm'),
      casbin: packageVersion('casbin'),
      tinybench: packageVersion('tinybench'),
    },
    cases: results,
    targets: results.flatMap((result) => result.targets),
    caps,
  };
}

export { DEFAULT_BUDGET_SECONDS };
