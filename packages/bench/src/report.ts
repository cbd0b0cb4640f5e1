/** The engines a row can measure. `node` is a baseline (an empty Node.js process). */
export type Engine = 'ape' | 'cedar' | 'casbin' | 'node';

/** The peers APE is compared with, in the order the table shows them. */
export const PEERS = ['cedar', 'casbin'] as const;

/** A peer APE is compared with. */
export type Peer = (typeof PEERS)[number];

/** Latency statistics of one row, per operation, in microseconds. */
export interface Stats {
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** Operations per second: `1e6 / meanUs`, or the measured throughput for concurrent rows. */
  readonly opsPerSecond: number;
  /** How many samples the statistics come from. */
  readonly samples: number;
  /** Operations per sample: a sample is the mean of `batch` back-to-back calls (1 = every call timed). */
  readonly batch: number;
}

/** Whether a row produced numbers, and if not, why. */
export type RowStatus = 'measured' | 'skipped' | 'unavailable' | 'failed';

/** One measured (or honestly not measured) line of the table. */
export interface Row {
  /** Stable id within the case, e.g. `decision:1000:cedar`. */
  readonly id: string;
  readonly engine: Engine;
  readonly label: string;
  /** Rows of different engines with the same `group` measure the same work; ratios are taken within it. */
  readonly group: string;
  readonly status: RowStatus;
  readonly stats?: Stats;
  /** For APE rows: how many times faster than each peer in the same group (peer mean / APE mean). */
  readonly speedup?: Partial<Record<Peer, number>>;
  /** Extra numbers (sizes, bytes, batch sizes). */
  readonly extra?: Readonly<Record<string, number | string>>;
  /** Why a row is skipped, unavailable or failed, or a caveat about how it was measured. */
  readonly note?: string;
}

/** A target of the issue next to the measured value. */
export interface TargetResult {
  readonly id: string;
  readonly description: string;
  /** The goal, as written in the issue. */
  readonly goal: string;
  /** The measured value, formatted, or `not measured`. */
  readonly measured: string;
  /** `null` when it could not be decided (a row was not measured). */
  readonly met: boolean | null;
  readonly note?: string;
}

/** One case of the issue (1–8) or a later addition. */
export interface CaseResult {
  readonly id: string;
  /** The case number in issue 9, when it has one. */
  readonly number?: number;
  readonly title: string;
  readonly rows: readonly Row[];
  readonly targets: readonly TargetResult[];
  readonly notes: readonly string[];
}

/** The machine the run happened on. */
export interface MachineInfo {
  readonly cpus: { readonly model: string; readonly count: number };
  readonly memoryBytes: number;
  readonly os: { readonly platform: string; readonly release: string; readonly arch: string };
  readonly node: string;
  readonly v8: string;
  /**
   * How fast this machine was at the start of the run, on two fixed workloads: the same CPU model
   * name can hide hosts of different speed, and a run's microseconds mean little without it. Medians
   * of 15 batches, in nanoseconds per operation.
   */
  readonly reference?: MachineReference;
}

/** See {@link MachineInfo.reference}. */
export interface MachineReference {
  /** One `crypto.hash('sha256', text, 'hex')` of a 300-character string (the audit record floor). */
  readonly sha256Ns: number;
  /** One step of a fixed JavaScript loop (integer arithmetic and a small object per step). */
  readonly jsStepNs: number;
}

/** Everything `bench/results/latest.json` holds. */
export interface BenchReport {
  readonly schemaVersion: 1;
  readonly date: string;
  readonly mode: 'full' | 'quick';
  readonly durationMs: number;
  readonly machine: MachineInfo;
  readonly versions: Readonly<Record<string, string>>;
  readonly cases: readonly CaseResult[];
  /** Every case's targets, flattened. */
  readonly targets: readonly TargetResult[];
  /** Sizes not measured for an engine, and why. */
  readonly caps: readonly { readonly engine: Engine; readonly size: number; readonly reason: string }[];
}

/** A measured row. */
export function measuredRow(fields: Omit<Row, 'status' | 'stats'> & { readonly stats: Stats }): Row {
  return { ...fields, status: 'measured' };
}

/** Fills `speedup` on every APE row from the peers measured in the same group. */
export function withSpeedups(rows: readonly Row[]): Row[] {
  return rows.map((row) => {
    if (row.engine !== 'ape' || row.stats === undefined) return row;
    const speedup: Partial<Record<Peer, number>> = {};
    for (const peer of PEERS) {
      const other = rows.find(
        (candidate) => candidate.group === row.group && candidate.engine === peer && candidate.stats,
      );
      if (other?.stats !== undefined && row.stats.meanUs > 0) {
        speedup[peer] = other.stats.meanUs / row.stats.meanUs;
      }
    }
    return Object.keys(speedup).length === 0 ? row : { ...row, speedup };
  });
}

/** Formats a duration given in microseconds with a readable unit. */
export function formatDuration(microseconds: number): string {
  if (!Number.isFinite(microseconds)) return '-';
  if (microseconds < 0) return `-${formatDuration(-microseconds)}`;
  if (microseconds < 1) return `${(microseconds * 1000).toFixed(0)} ns`;
  if (microseconds < 1000) return `${microseconds.toFixed(microseconds < 10 ? 2 : 1)} µs`;
  if (microseconds < 1_000_000) return `${(microseconds / 1000).toFixed(microseconds < 10_000 ? 2 : 1)} ms`;
  return `${(microseconds / 1_000_000).toFixed(2)} s`;
}

/** Formats a rate with thousands separators. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '-';
  if (perSecond >= 100) return Math.round(perSecond).toLocaleString('en-US');
  return perSecond.toFixed(perSecond >= 10 ? 1 : 2);
}

/** Formats a ratio such as `1,234×`. */
export function formatRatio(ratio: number | undefined): string {
  if (ratio === undefined || !Number.isFinite(ratio)) return '';
  return `${ratio >= 100 ? Math.round(ratio).toLocaleString('en-US') : ratio.toFixed(1)}×`;
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ');
}

function table(header: readonly string[], lines: readonly (readonly string[])[]): string {
  const widths = header.map((cell, index) =>
    Math.max(cell.length, ...lines.map((line) => (line[index] ?? '').length)),
  );
  return [
    pad(header, widths),
    pad(
      widths.map((width) => '-'.repeat(width)),
      widths,
    ),
    ...lines.map((line) => pad(line, widths)),
  ]
    .map((line) => line.trimEnd())
    .join('\n');
}

/** The report as plain-text tables: one per case, then the targets. */
export function formatReport(report: BenchReport): string {
  const out: string[] = [];
  const { machine } = report;
  out.push(
    `APE benchmarks (${report.mode}) ${report.date}`,
    `${machine.cpus.count} × ${machine.cpus.model}, ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB, ` +
      `${machine.os.platform} ${machine.os.release} ${machine.os.arch}, Node ${machine.node}`,
    ...(machine.reference === undefined
      ? []
      : [
          `machine reference: sha256 of 300 characters ${machine.reference.sha256Ns.toFixed(0)} ns, ` +
            `a JavaScript loop step ${machine.reference.jsStepNs.toFixed(1)} ns (compare runs by these first)`,
        ]),
    '',
  );
  for (const result of report.cases) {
    out.push(`${result.number === undefined ? '' : `${result.number}. `}${result.title}`);
    const lines = result.rows.map((row) => {
      const stats = row.stats;
      return [
        row.label,
        row.engine,
        stats === undefined ? (row.status === 'measured' ? '' : row.status) : formatDuration(stats.meanUs),
        stats === undefined ? '' : formatDuration(stats.p50Us),
        stats === undefined ? '' : formatDuration(stats.p99Us),
        stats === undefined ? '' : formatRate(stats.opsPerSecond),
        stats === undefined ? '' : `${stats.samples}${stats.batch > 1 ? `×${stats.batch}` : ''}`,
        formatRatio(row.speedup?.cedar),
        formatRatio(row.speedup?.casbin),
        row.status === 'measured' && stats !== undefined ? '' : (row.note ?? ''),
      ];
    });
    out.push(
      table(
        ['row', 'engine', 'mean', 'p50', 'p99', 'ops/s', 'samples', 'vs cedar', 'vs casbin', 'note'],
        lines,
      ),
    );
    for (const note of result.notes) out.push(`  note: ${note}`);
    out.push('');
  }
  out.push('Targets (issues 9 and 11)');
  out.push(
    table(
      ['target', 'goal', 'measured', 'met'],
      report.targets.map((target) => [
        target.description,
        target.goal,
        target.measured,
        target.met === null ? 'n/a' : target.met ? 'yes' : 'NO',
      ]),
    ),
  );
  return out.join('\n');
}
