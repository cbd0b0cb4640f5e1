import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseVega, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { BenchReport, CaseResult, Row } from './report.js';

/** One chart of a report: the SVG file it is written to and its Vega-Lite specification. */
export interface ChartSpec {
  /** File name under the charts directory, e.g. `decision-scaling.svg`. */
  readonly file: string;
  readonly title: string;
  readonly spec: TopLevelSpec;
}

const WIDTH = 560;
const FONT = 'Helvetica, Arial, sans-serif';
const ENGINE_COLORS = {
  domain: ['ape', 'ape (JSON)', 'cedar', 'casbin'],
  range: ['#1f6feb', '#7ab8ff', '#d97706', '#6b7280'],
};

function caseOf(report: BenchReport, id: string): CaseResult | undefined {
  return report.cases.find((result) => result.id === id);
}

function measured(result: CaseResult | undefined): (Row & { readonly stats: NonNullable<Row['stats']> })[] {
  return (result?.rows ?? []).filter(
    (row): row is Row & { readonly stats: NonNullable<Row['stats']> } =>
      row.status === 'measured' && row.stats !== undefined,
  );
}

function subtitle(report: BenchReport): string {
  return `${report.mode} run of ${report.date.slice(0, 10)}, Node ${report.machine.node}, ${report.machine.cpus.count} × ${report.machine.cpus.model}`;
}

function frame(report: BenchReport, title: string) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle: subtitle(report), anchor: 'start' as const },
    width: WIDTH,
    config: { font: FONT, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11 } },
  };
}

/** Decision time against policy size, one line per engine, both axes logarithmic. */
function scalingChart(report: BenchReport, caseId: string, what: 'decision' | 'load'): ChartSpec | undefined {
  const values = measured(caseOf(report, caseId))
    .filter((row) => typeof row.extra?.['rules'] === 'number' && row.engine !== 'node')
    .map((row) => ({
      rules: row.extra?.['rules'] as number,
      engine: row.extra?.['format'] === 'json' ? `${row.engine} (JSON)` : row.engine,
      p50: row.stats.p50Us,
    }));
  if (values.length === 0) return undefined;
  const title =
    what === 'decision'
      ? 'One decision (p50) against policy size: APE, Cedar, casbin'
      : 'Load and compile a policy (p50) against its size: APE (YAML and JSON), Cedar, casbin';
  return {
    file: what === 'decision' ? 'decision-scaling.svg' : 'load-scaling.svg',
    title,
    spec: {
      ...frame(report, title),
      height: 300,
      data: { values },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'rules', type: 'quantitative', scale: { type: 'log' }, title: 'rules in the policy' },
        y: {
          field: 'p50',
          type: 'quantitative',
          scale: { type: 'log' },
          title: 'p50, microseconds (log)',
        },
        color: { field: 'engine', type: 'nominal', scale: ENGINE_COLORS, title: 'engine' },
      },
    },
  };
}

/** The cost of a gated step, whole and by layer, as horizontal bars on a log axis. */
function stepChart(report: BenchReport): ChartSpec | undefined {
  const values = measured(caseOf(report, 'gated-step')).map((row) => ({
    what: row.label,
    p50: row.stats.p50Us,
    kind: row.id.startsWith('layer:')
      ? row.id.includes('sha256')
        ? 'floor'
        : 'layer'
      : // A plan step's share of submitPlan is a part of a step, not a whole one.
        row.id === 'step:plan-submit-share'
        ? 'layer'
        : 'whole step',
  }));
  if (values.length === 0) return undefined;
  const title = 'A gated step, whole and by layer (p50)';
  const floor = 10 ** Math.floor(Math.log10(Math.min(...values.map((value) => value.p50))));
  const ceiling = 10 ** Math.ceil(Math.log10(2 * Math.max(...values.map((value) => value.p50))));
  const scale = { type: 'log' as const, domainMin: floor, domainMax: ceiling };
  return {
    file: 'gated-step.svg',
    title,
    spec: {
      ...frame(report, title),
      width: 420,
      data: { values },
      encoding: {
        y: { field: 'what', type: 'nominal', sort: null, title: null, axis: { labelLimit: 420 } },
      },
      layer: [
        {
          mark: { type: 'bar' },
          encoding: {
            // Log bars need a start inside the domain: the power of ten below the smallest value.
            x: { field: 'p50', type: 'quantitative', scale, title: 'p50, microseconds (log)' },
            x2: { datum: floor },
            color: {
              field: 'kind',
              type: 'nominal',
              scale: { domain: ['whole step', 'layer', 'floor'], range: ['#1f6feb', '#93c5fd', '#9ca3af'] },
              title: null,
            },
          },
        },
        {
          mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 },
          encoding: {
            x: { field: 'p50', type: 'quantitative', scale },
            text: { field: 'p50', type: 'quantitative', format: '.3~r' },
          },
        },
      ],
    },
  };
}

/** What the MCP gateway adds to a `tools/call`, per transport (p50 and p99). */
function gatewayChart(report: BenchReport): ChartSpec | undefined {
  // The gateway's rows only (the relay's row records what it adds too).
  const values = measured(caseOf(report, 'mcp-gateway')).flatMap((row) => {
    if (row.engine !== 'ape') return [];
    const p50 = row.extra?.['addedP50Us'];
    const p99 = row.extra?.['addedP99Us'];
    if (typeof p50 !== 'number' || typeof p99 !== 'number') return [];
    const transport = row.group.replace(/^mcp-/, '');
    return [
      { transport, percentile: 'p50', added: p50 },
      { transport, percentile: 'p99', added: p99 },
    ];
  });
  if (values.length === 0) return undefined;
  const title = 'Latency the MCP gateway adds to one tools/call';
  return {
    file: 'mcp-gateway.svg',
    title,
    spec: {
      ...frame(report, title),
      data: { values },
      mark: { type: 'bar' },
      encoding: {
        y: { field: 'transport', type: 'nominal', title: 'transport' },
        yOffset: { field: 'percentile', type: 'nominal' },
        x: { field: 'added', type: 'quantitative', title: 'added latency, microseconds' },
        color: {
          field: 'percentile',
          type: 'nominal',
          scale: { domain: ['p50', 'p99'], range: ['#1f6feb', '#93c5fd'] },
          title: null,
        },
      },
    },
  };
}

/** The charts a report can show (a chart whose case was not run, or measured nothing, is left out). */
export function chartSpecs(report: BenchReport): ChartSpec[] {
  return [
    scalingChart(report, 'scaling-decision', 'decision'),
    scalingChart(report, 'scaling-load', 'load'),
    stepChart(report),
    gatewayChart(report),
  ].filter((chart): chart is ChartSpec => chart !== undefined);
}

/** Renders one chart to SVG text in Node (Vega's headless renderer; no browser, no canvas). */
export async function renderChart(chart: ChartSpec): Promise<string> {
  const view = new View(parseVega(compile(chart.spec).spec), { renderer: 'none' });
  try {
    return `${await view.toSVG()}\n`;
  } finally {
    view.finalize();
  }
}

/** Renders every chart of `report` into `directory` (created if missing); returns the files written. */
export async function writeCharts(report: BenchReport, directory: string): Promise<string[]> {
  mkdirSync(directory, { recursive: true });
  const written: string[] = [];
  for (const chart of chartSpecs(report)) {
    const path = join(directory, chart.file);
    writeFileSync(path, await renderChart(chart));
    written.push(path);
  }
  return written;
}
