import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chartSpecs, renderChart, writeCharts } from './charts.js';
import type { BenchReport, CaseResult, Engine, Row } from './report.js';

function row(id: string, engine: Engine, group: string, p50Us: number, extra?: Row['extra']): Row {
  return {
    id,
    engine,
    label: `label of ${id}`,
    group,
    status: 'measured',
    stats: { meanUs: p50Us, p50Us, p99Us: p50Us * 2, opsPerSecond: 1e6 / p50Us, samples: 10, batch: 1 },
    ...(extra === undefined ? {} : { extra }),
  };
}

function caseResult(id: string, rows: Row[]): CaseResult {
  return { id, title: id, rows, targets: [], notes: [] };
}

const scaling = (kind: string) =>
  [10, 1000, 100_000].flatMap((rules) =>
    (['ape', 'cedar', 'casbin'] as const).map((engine) =>
      row(`${kind}:${rules}:${engine}`, engine, `${rules} rules`, engine === 'ape' ? 0.03 : rules, {
        rules,
        globs: 100,
      }),
    ),
  );

const report: BenchReport = {
  schemaVersion: 1,
  date: '2026-11-30T12:00:00.000Z',
  mode: 'full',
  durationMs: 1000,
  machine: {
    cpus: { model: 'Test CPU', count: 2 },
    memoryBytes: 1,
    os: { platform: 'linux', release: '6', arch: 'x64' },
    node: 'v20.20.0',
    v8: '11',
  },
  versions: {},
  cases: [
    caseResult('scaling-decision', scaling('decision')),
    caseResult('scaling-load', [
      ...scaling('load'),
      ...[10, 1000, 100_000].map((rules) =>
        row(`load-json:${rules}:ape`, 'ape', `${rules} rules`, rules / 2, {
          rules,
          globs: 100,
          format: 'json',
        }),
      ),
    ]),
    caseResult('gated-step', [
      row('step:memory-audit', 'ape', 'step', 33),
      row('layer:policy', 'ape', 'layer-policy', 0.05),
      row('layer:sha256-floor', 'ape', 'layer-sha256', 2),
      { ...row('step:skipped', 'ape', 'step', 1), status: 'skipped', note: 'not here' },
    ]),
    caseResult('mcp-gateway', [
      row('mcp:memory:direct', 'node', 'mcp-memory', 11),
      row('mcp:memory:gateway', 'ape', 'mcp-memory', 100, { addedP50Us: 89, addedP99Us: 700 }),
      row('mcp:stdio:gateway', 'ape', 'mcp-stdio', 978, { addedP50Us: 912, addedP99Us: 6742 }),
      // What a relay that does nothing adds: recorded, but not the gateway's.
      row('mcp:stdio:relay', 'node', 'mcp-relay', 80, { addedP50Us: 14, addedP99Us: 60 }),
    ]),
  ],
  targets: [],
  caps: [],
};

describe('charts', () => {
  it('draws the four charts from a report, from measured rows only', () => {
    const charts = chartSpecs(report);
    expect(charts.map((chart) => chart.file)).toEqual([
      'decision-scaling.svg',
      'load-scaling.svg',
      'gated-step.svg',
      'mcp-gateway.svg',
    ]);
    const step = charts[2]?.spec as unknown as { data: { values: { what: string; kind: string }[] } };
    expect(step.data.values.map((value) => [value.what, value.kind])).toEqual([
      ['label of step:memory-audit', 'whole step'],
      ['label of layer:policy', 'layer'],
      ['label of layer:sha256-floor', 'floor'],
    ]);
    const gateway = charts[3]?.spec as unknown as { data: { values: unknown[] } };
    expect(gateway.data.values).toEqual([
      { transport: 'memory', percentile: 'p50', added: 89 },
      { transport: 'memory', percentile: 'p99', added: 700 },
      { transport: 'stdio', percentile: 'p50', added: 912 },
      { transport: 'stdio', percentile: 'p99', added: 6742 },
    ]);
  });

  it('draws APE loading JSON as its own series beside APE loading YAML', async () => {
    const load = chartSpecs(report)[1];
    if (load === undefined) throw new Error('no chart');
    const values = (load.spec as unknown as { data: { values: { rules: number; engine: string }[] } }).data
      .values;
    expect(values.filter((value) => value.engine === 'ape (JSON)').map((value) => value.rules)).toEqual([
      10, 1000, 100_000,
    ]);
    expect(values.filter((value) => value.engine === 'ape')).toHaveLength(3);
    expect(await renderChart(load)).toContain('>ape (JSON)<');
  });

  it('leaves out a chart whose case was not run', () => {
    const partial = { ...report, cases: report.cases.filter((result) => result.id === 'gated-step') };
    expect(chartSpecs(partial).map((chart) => chart.file)).toEqual(['gated-step.svg']);
  });

  it('renders deterministic SVG naming the run, the engines and the axes', async () => {
    const [scalingChart] = chartSpecs(report);
    if (scalingChart === undefined) throw new Error('no chart');
    const svg = await renderChart(scalingChart);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('One decision (p50) against policy size');
    expect(svg).toContain('full run of 2026-11-30, Node v20.20.0, 2 × Test CPU');
    for (const text of ['ape', 'cedar', 'casbin', 'rules in the policy', 'p50, microseconds (log)']) {
      expect(svg).toContain(`>${text}<`);
    }
    expect(await renderChart(scalingChart)).toBe(svg);
  });

  it('writes one SVG file per chart', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ape-charts-'));
    try {
      const written = await writeCharts(report, join(directory, 'charts'));
      expect(written).toHaveLength(4);
      expect(readdirSync(join(directory, 'charts')).sort()).toEqual([
        'decision-scaling.svg',
        'gated-step.svg',
        'load-scaling.svg',
        'mcp-gateway.svg',
      ]);
      expect(readFileSync(join(directory, 'charts', 'mcp-gateway.svg'), 'utf8')).toContain('tools/call');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
