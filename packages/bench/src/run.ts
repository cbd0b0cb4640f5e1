import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { messageOf } from '@ape/core';
import { writeCharts } from './charts.js';
import type { BenchReport } from './report.js';

// The cases (and the engines they load) are imported only when measuring: `--charts-from` needs none.
const loadBenchmarks = () => import('./benchmarks.js');
const loadScaling = () => import('./cases/scaling.js');

const usage = (
  defaultBudget: number,
) => `usage: node packages/bench/dist/run.js [--quick] [--out <file>] [--budget <seconds>] [--only <case-id,...>] [--charts <dir>]
       node packages/bench/dist/run.js --charts-from <report.json> [--charts <dir>]

  --quick     one sample per row, small policies (a smoke run of every case)
  --out       where to write the JSON report (default: bench/results/latest.json, or
              bench/results/quick.json with --quick), relative to the working directory
  --budget    seconds the run may take; the largest scaling points are cut short to fit (default ${defaultBudget})
  --only      run only these cases (ids: three-list, argument-condition, gated-step, durable-audit,
              audit-verifier, tokens, cli-cold-start, mcp-gateway, ai-sdk-adapter, openai-agents-adapter,
              langchain-adapter, adversarial-patterns, shared-state, policy-diff,
              argument-provenance, scaling)
  --charts    where to write the SVG charts drawn from the report (default: a charts/ directory
              beside the default report; no charts for --quick or --out unless given)
  --charts-from  draw the charts of an existing JSON report and exit (no measuring)`;

/** Child modes: prints what `measure` gives as one JSON line, `{ ok, result }` or `{ ok: false, error }`. */
async function printOutcome(measure: () => unknown): Promise<number> {
  try {
    const result = await measure();
    process.stdout.write(`${JSON.stringify({ ok: true, result })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: messageOf(error) })}\n`);
  }
  return 0;
}

/** Child mode: measure one scaling point and print it as one JSON line. */
async function runPointMode(engine: string, size: string, quick: boolean): Promise<number> {
  const [{ runScalePoint, SCALE_ENGINES }, { settingsFor }] = await Promise.all([
    loadScaling(),
    import('./harness.js'),
  ]);
  if (!(SCALE_ENGINES as readonly string[]).includes(engine) || !/^\d+$/.test(size)) {
    process.stderr.write(`unknown point ${engine} ${size}\n`);
    return 2;
  }
  return printOutcome(() =>
    runScalePoint(engine as (typeof SCALE_ENGINES)[number], Number(size), settingsFor(quick)),
  );
}

/** Child mode: measure APE's decision at every size in `sizes` (comma-separated), interleaved; print one JSON line. */
async function runFlatMode(sizes: string, quick: boolean): Promise<number> {
  const [{ measureFlatDecisions }, { settingsFor }] = await Promise.all([
    loadScaling(),
    import('./harness.js'),
  ]);
  if (!/^\d+(,\d+)*$/.test(sizes)) {
    process.stderr.write(`unknown sizes ${sizes}\n`);
    return 2;
  }
  return printOutcome(() => measureFlatDecisions(sizes.split(',').map(Number), settingsFor(quick)));
}

async function main(argv: readonly string[]): Promise<number> {
  const { DEFAULT_BUDGET_SECONDS } = await import('./budget.js');
  const USAGE = usage(DEFAULT_BUDGET_SECONDS);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    process.stderr.write(`${messageOf(error)}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values['charts-from'] !== undefined) {
    const from = resolve(values['charts-from']);
    const report = JSON.parse(readFileSync(from, 'utf8')) as BenchReport;
    const written = await writeCharts(report, resolve(values.charts ?? join(dirname(from), 'charts')));
    process.stdout.write(`${written.join('\n')}\n`);
    return 0;
  }
  const [{ runBenchmarks }, { formatReport }] = await Promise.all([loadBenchmarks(), import('./report.js')]);
  const quick = values.quick === true;
  if (values.point === true) return runPointMode(positionals[0] ?? '', positionals[1] ?? '', quick);
  if (values.flat !== undefined) return runFlatMode(values.flat, quick);
  const budget = values.budget === undefined ? DEFAULT_BUDGET_SECONDS : Number(values.budget);
  if (!Number.isFinite(budget) || budget <= 0) {
    process.stderr.write(`--budget must be a positive number of seconds\n${USAGE}\n`);
    return 2;
  }
  const report = await runBenchmarks({
    quick,
    budgetSeconds: budget,
    ...(values.only === undefined ? {} : { only: values.only.split(',') }),
    log: (message) => process.stderr.write(`[bench] ${message}\n`),
  });
  const out = resolve(values.out ?? (quick ? 'bench/results/quick.json' : 'bench/results/latest.json'));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  const chartsDir =
    values.charts ?? (quick || values.out !== undefined ? undefined : join(dirname(out), 'charts'));
  const charts = chartsDir === undefined ? [] : await writeCharts(report, resolve(chartsDir));
  process.stdout.write(
    `${formatReport(report)}\n\nwritten to ${out} in ${(report.durationMs / 1000).toFixed(1)} s` +
      `${charts.length === 0 ? '' : `; charts: ${charts.join(', ')}`}\n`,
  );
  return 0;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      quick: { type: 'boolean' },
      out: { type: 'string' },
      budget: { type: 'string' },
      only: { type: 'string' },
      point: { type: 'boolean' },
      flat: { type: 'string' },
      charts: { type: 'string' },
      'charts-from': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

process.exitCode = await main(process.argv.slice(2));
