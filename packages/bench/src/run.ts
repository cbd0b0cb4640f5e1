import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_BUDGET_SECONDS, runBenchmarks } from './benchmarks.js';
import { runScalePoint, SCALE_ENGINES, type ScaleEngine } from './cases/scaling.js';
import { settingsFor } from './harness.js';
import { formatReport } from './report.js';

const USAGE = `usage: node packages/bench/dist/run.js [--quick] [--out <file>] [--budget <seconds>] [--only <case-id,...>]

  --quick     one sample per row, small policies (a smoke run of every case)
  --out       where to write the JSON report (default: bench/results/latest.json, or
              bench/results/quick.json with --quick), relative to the working directory
  --budget    seconds the run may take; the largest scaling points are cut short to fit (default ${DEFAULT_BUDGET_SECONDS})
  --only      run only these cases (ids: three-list, argument-condition, gated-step, durable-audit,
              audit-verifier, tokens, cli-cold-start, mcp-gateway, ai-sdk-adapter, openai-agents-adapter,
              langchain-adapter, adversarial-patterns, shared-state, argument-provenance, scaling)`;

/** Child mode: measure one scaling point and print it as one JSON line. */
async function runPointMode(engine: string, size: string, quick: boolean): Promise<number> {
  if (!SCALE_ENGINES.includes(engine as ScaleEngine) || !/^\d+$/.test(size)) {
    process.stderr.write(`unknown point ${engine} ${size}\n`);
    return 2;
  }
  try {
    const result = await runScalePoint(engine as ScaleEngine, Number(size), settingsFor(quick));
    process.stdout.write(`${JSON.stringify({ ok: true, result })}\n`);
  } catch (error) {
    process.stdout.write(
      `${JSON.stringify({ ok: false, error: error instanceof Error ? error.message : String(error) })}\n`,
    );
  }
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const quick = values.quick === true;
  if (values.point === true) return runPointMode(positionals[0] ?? '', positionals[1] ?? '', quick);
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
  process.stdout.write(
    `${formatReport(report)}\n\nwritten to ${out} in ${(report.durationMs / 1000).toFixed(1)} s\n`,
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
      help: { type: 'boolean', short: 'h' },
    },
  });
}

process.exitCode = await main(process.argv.slice(2));
