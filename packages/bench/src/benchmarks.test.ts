import { describe, expect, it } from 'vitest';
import { runBenchmarks } from './benchmarks.js';
import { type BenchReport, formatReport, type Row } from './report.js';

const STATUSES = ['measured', 'skipped', 'unavailable', 'failed'];

function expectFinite(value: unknown): void {
  expect(typeof value).toBe('number');
  expect(Number.isFinite(value)).toBe(true);
}

function expectWellFormedRow(row: Row): void {
  expect(typeof row.id).toBe('string');
  expect(['ape', 'cedar', 'casbin', 'node']).toContain(row.engine);
  expect(row.label.length).toBeGreaterThan(0);
  expect(STATUSES).toContain(row.status);
  if (row.status !== 'measured') expect(row.note?.length ?? 0).toBeGreaterThan(0);
  if (row.stats !== undefined) {
    for (const key of ['meanUs', 'p50Us', 'p99Us', 'opsPerSecond', 'samples', 'batch'] as const) {
      expectFinite(row.stats[key]);
    }
    expect(row.stats.samples).toBeGreaterThanOrEqual(1);
    expect(row.stats.batch).toBeGreaterThanOrEqual(1);
  }
  for (const ratio of Object.values(row.speedup ?? {})) expectFinite(ratio);
}

describe('runBenchmarks in quick mode (smoke test, no timing assertions)', () => {
  it('runs every case of issue 9, the audit verifier, the MCP gateway and the adapter cases once and returns a well-formed JSON report', async () => {
    const report = JSON.parse(JSON.stringify(await runBenchmarks({ quick: true }))) as BenchReport;

    expect(report.schemaVersion).toBe(1);
    expect(report.mode).toBe('quick');
    expect(Number.isNaN(Date.parse(report.date))).toBe(false);
    expectFinite(report.durationMs);
    expect(report.machine.cpus.count).toBeGreaterThan(0);
    expect(report.machine.cpus.model.length).toBeGreaterThan(0);
    expectFinite(report.machine.memoryBytes);
    expect(report.machine.node).toBe(process.version);
    expect(Object.keys(report.machine.os).sort()).toEqual(['arch', 'platform', 'release']);
    // The machine's speed reference: positive, finite nanoseconds for both fixed workloads.
    expect(report.machine.reference?.sha256Ns).toBeGreaterThan(0);
    expect(report.machine.reference?.jsStepNs).toBeGreaterThan(0);
    expectFinite(report.machine.reference?.sha256Ns ?? Number.NaN);
    expectFinite(report.machine.reference?.jsStepNs ?? Number.NaN);
    expect(formatReport(report)).toMatch(/machine reference: sha256 of 300 characters \d+ ns/);
    expect(report.versions['@cedar-policy/cedar-wasm']).toBe('4.13.0');

    expect(report.cases.map((result) => result.number ?? result.id)).toEqual([
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      'audit-verifier',
      'mcp-gateway',
      'ai-sdk-adapter',
      'adversarial-patterns',
      'shared-state',
      'openai-agents-adapter',
      'langchain-adapter',
      'policy-diff',
      'argument-provenance',
    ]);
    for (const result of report.cases) {
      expect(result.rows.length).toBeGreaterThan(0);
      for (const row of result.rows) expectWellFormedRow(row);
    }
    for (const number of [1, 2, 3, 4]) {
      const engines = new Set(
        report.cases.find((result) => result.number === number)?.rows.map((row) => row.engine),
      );
      expect([...engines].sort()).toEqual(['ape', 'casbin', 'cedar']);
    }
    const measuredApe = report.cases
      .filter((result) => result.number !== undefined && result.number <= 3)
      .flatMap((result) => result.rows)
      .filter((row) => row.engine === 'ape' && row.status === 'measured');
    for (const row of measuredApe) expect(Object.keys(row.speedup ?? {}).sort()).toEqual(['casbin', 'cedar']);

    const gateway = report.cases.find((result) => result.id === 'mcp-gateway');
    expect(gateway?.rows.map((row) => row.id)).toEqual([
      'mcp:memory:direct',
      'mcp:memory:gateway',
      'mcp:stdio:direct',
      'mcp:stdio:gateway',
      'mcp:stdio:relay',
      'mcp:stdio:pipe',
    ]);
    expect(gateway?.rows.filter((row) => row.group === 'mcp-memory').map((row) => row.status)).toEqual([
      'measured',
      'measured',
    ]);
    // The bare pipe round trip needs no build of the CLI: it is measured in every run.
    expect(gateway?.rows.find((row) => row.id === 'mcp:stdio:pipe')?.status).toBe('measured');
    expect(report.targets.map((target) => target.id)).toContain('mcp-gateway-added-p50');
    expect(report.targets.map((target) => target.id)).toEqual(
      expect.arrayContaining(['issue18-durable', 'issue18-verify']),
    );
    const verifier = report.cases.find((result) => result.id === 'audit-verifier');
    expect(verifier?.rows.map((row) => row.status)).toEqual(['measured', 'measured']);
    expect(report.targets.map((target) => target.id)).toContain('ai-sdk-added-p50');

    // redis-server is on PATH wherever the tests run (.ci/run installs it), so the Redis rows are measured.
    const shared = report.cases.find((result) => result.id === 'shared-state');
    expect(shared?.rows.map((row) => [row.id, row.status])).toEqual([
      ['shared-state:gated-step:memory', 'measured'],
      ['shared-state:acquire:redis', 'measured'],
      ['shared-state:acquire-pipelined:redis', 'measured'],
      ['shared-state:begin:redis', 'measured'],
      ['shared-state:begin-pipelined:redis', 'measured'],
      ['shared-state:gated-step:redis', 'measured'],
      ['shared-state:gated-step-concurrent:redis', 'measured'],
    ]);
    expect(report.targets.map((target) => target.id)).toContain('issue19-round-trips');

    const openaiAgents = report.cases.find((result) => result.id === 'openai-agents-adapter');
    expect(openaiAgents?.rows.map((row) => [row.id, row.status])).toEqual([
      ['openai-agents:bare', 'measured'],
      ['openai-agents:gate', 'measured'],
      ['openai-agents:ape', 'measured'],
    ]);
    expect(report.targets.map((target) => target.id)).toContain('openai-agents-added-p50');

    expect(report.targets.length).toBeGreaterThanOrEqual(13);
    for (const target of report.targets) {
      expect(target.goal.length).toBeGreaterThan(0);
      expect(target.measured.length).toBeGreaterThan(0);
      expect([true, false, null]).toContain(target.met);
    }
  });

  it('counts the Redis round trips of a gated call on the wire: one, the issue 19 target', async () => {
    const report = await runBenchmarks({ quick: true, only: ['shared-state'] });
    const step = report.cases[0]?.rows.find((row) => row.id === 'shared-state:gated-step:redis');
    expect(step?.extra?.['roundTripsPerCall']).toBe(1);
    expect(report.targets.find((target) => target.id === 'issue19-round-trips')).toMatchObject({
      goal: '≤ 1',
      measured: '1',
      met: true,
    });
  });

  it('measures the AI SDK adapter next to the bare AI SDK tool in the same run', async () => {
    const report = await runBenchmarks({ quick: true, only: ['ai-sdk-adapter'] });
    const adapter = report.cases.find((result) => result.id === 'ai-sdk-adapter');
    expect(adapter?.rows.map((row) => [row.id, row.status])).toEqual([
      ['ai-sdk:bare', 'measured'],
      ['ai-sdk:gate', 'measured'],
      ['ai-sdk:ape', 'measured'],
    ]);
    expect(typeof adapter?.rows[2]?.extra?.['addedP50Us']).toBe('number');
    expect(report.targets.find((target) => target.id === 'ai-sdk-added-p50')?.goal).toBe('≤ 20.0 µs p50');
  });

  it('measures the LangChain adapter next to the bare LangChain tool call in the same run', async () => {
    const report = await runBenchmarks({ quick: true, only: ['langchain-adapter'] });
    const adapter = report.cases.find((result) => result.id === 'langchain-adapter');
    expect(adapter?.rows.map((row) => [row.id, row.status])).toEqual([
      ['langchain:bare', 'measured'],
      ['langchain:gate', 'measured'],
      ['langchain:ape', 'measured'],
    ]);
    expect(typeof adapter?.rows[2]?.extra?.['addedP50Us']).toBe('number');
    expect(report.targets.find((target) => target.id === 'langchain-added-p50')?.goal).toBe('≤ 20.0 µs p50');
  });
});
