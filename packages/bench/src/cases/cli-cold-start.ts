import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { statsOf } from '../harness.js';
import { formatDuration, measuredRow, type Row, type TargetResult } from '../report.js';
import { targetAtMost } from '../targets.js';
import type { BenchCase } from './context.js';
import { caseResult, cliBinary, repositoryRoot } from './shared.js';

/** Process launches per row in a full run. */
const RUNS = 20;

/** Wall time of whole processes, in microseconds, launched one after another. */
function timeProcesses(args: readonly string[], runs: number): { samples: number[]; failure?: string } {
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = process.hrtime.bigint();
    const child = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const elapsed = Number(process.hrtime.bigint() - started) / 1000;
    if (child.status !== 0) {
      const lines = `${child.stderr}\n${child.stdout}`.trim().split('\n');
      const reason = lines.find((line) => /error|cannot/i.test(line)) ?? lines[0] ?? '';
      return { samples, failure: `exit ${String(child.status ?? child.signal)}: ${reason.trim()}` };
    }
    samples.push(elapsed);
  }
  return { samples };
}

/** Issue 22's goals: what each command adds to Node.js start-up alone, at the median. */
const SIMULATE_OVER_NODE_US = 40_000;
const VERSION_OVER_NODE_US = 15_000;

/** A row timing `ape` with `args` as whole processes (or why it could not). */
function cliRow(
  id: string,
  label: string,
  binary: string | undefined,
  args: readonly string[] | undefined,
  unavailable: string,
  runs: number,
): Row {
  if (binary === undefined || args === undefined) {
    return { id, engine: 'ape', label, group: 'cli', status: 'unavailable', note: unavailable };
  }
  const timed = timeProcesses([binary, ...args], runs);
  return timed.failure === undefined
    ? measuredRow({ id, engine: 'ape', label, group: 'cli', stats: statsOf(timed.samples) })
    : { id, engine: 'ape', label, group: 'cli', status: 'failed', note: timed.failure };
}

/** Issue 22: the median of `row` minus the median of Node.js alone, against `limitUs`. */
function addedOverNode(id: string, description: string, row: Row, node: Row, limitUs: number): TargetResult {
  const goal = `≤ Node alone + ${formatDuration(limitUs)}`;
  if (row.stats === undefined || node.stats === undefined) {
    return { id, description, goal, measured: 'not measured', met: null, note: 'a row was not measured' };
  }
  const added = row.stats.p50Us - node.stats.p50Us;
  const sign = added < 0 ? '' : '+';
  return { id, description, goal, measured: `${sign}${formatDuration(added)}`, met: added <= limitUs };
}

/** Case 8: `ape simulate` on the example policy, as a whole process, against an empty Node.js process. */
export const cliColdStartCase: BenchCase = {
  id: 'cli-cold-start',
  number: 8,
  title: 'CLI cold start: ape simulate on the example policy, whole process (median of runs)',
  async run({ settings }) {
    const runs = settings.quick ? 1 : RUNS;
    const root = repositoryRoot();
    const binary = cliBinary();
    const policy = root === undefined ? undefined : join(root, 'policies', 'example_policy.yaml');
    const unavailable =
      binary === undefined
        ? 'the ape binary (@ape/cli dist/ape.cjs) is not built'
        : 'policies/example_policy.yaml was not found';
    const rows: Row[] = [
      cliRow(
        'cli:simulate',
        'ape simulate policies/example_policy.yaml read_file',
        binary,
        policy === undefined ? undefined : ['simulate', policy, 'read_file'],
        unavailable,
        runs,
      ),
      cliRow('cli:version', 'ape --version', binary, ['--version'], unavailable, runs),
    ];
    const baseline = timeProcesses(['-e', ''], runs);
    rows.push(
      baseline.failure === undefined
        ? measuredRow({
            id: 'cli:node-baseline',
            engine: 'node',
            label: 'node -e "" (the floor: Node.js start-up alone)',
            group: 'node',
            stats: statsOf(baseline.samples),
          })
        : {
            id: 'cli:node-baseline',
            engine: 'node',
            label: 'node -e ""',
            group: 'node',
            status: 'failed',
            note: baseline.failure,
          },
    );
    return caseResult(
      cliColdStartCase,
      rows,
      [
        targetAtMost('case8-cli', 'case 8: CLI cold start (median)', rows[0], 200_000, 'p50Us'),
        addedOverNode(
          'cli-simulate-over-node',
          'issue 22: ape simulate, whole process, over Node.js alone (median)',
          rows[0]!,
          rows[2]!,
          SIMULATE_OVER_NODE_US,
        ),
        addedOverNode(
          'cli-version-over-node',
          'issue 22: ape --version, whole process, over Node.js alone (median)',
          rows[1]!,
          rows[2]!,
          VERSION_OVER_NODE_US,
        ),
      ],
      [`${runs} launch${runs === 1 ? '' : 'es'} per row, one after another; the median is the p50 column.`],
    );
  },
};
