import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { statsOf } from '../harness.js';
import { formatDuration, measuredRow, type Row, type TargetResult } from '../report.js';
import { targetAtMost } from '../targets.js';
import type { BenchCase } from './context.js';
import { caseResult, cliBinary, repositoryRoot } from './shared.js';

/** Process launches per row in a full run. */
const RUNS = 20;

/** One kind of process the case launches: Node's arguments and extra environment. */
interface Launch {
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

/** The wall times of one launch, in microseconds, or why it stopped. */
interface Timed {
  readonly samples: number[];
  failure?: string;
}

/**
 * Wall time of whole processes, in microseconds: each round launches every kind once, one after
 * another, so that a drift of the host's speed weighs on every row alike (the rows are compared with
 * each other: what a command adds over Node alone). A kind that fails is not launched again.
 */
function timeInterleaved(launches: readonly Launch[], runs: number): Timed[] {
  const timed: Timed[] = launches.map(() => ({ samples: [] }));
  for (let run = 0; run < runs; run++) {
    launches.forEach((launch, index) => {
      const result = timed[index]!;
      if (result.failure !== undefined) return;
      const started = process.hrtime.bigint();
      const child = spawnSync(process.execPath, launch.args, {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(launch.env === undefined ? {} : { env: { ...process.env, ...launch.env } }),
      });
      const elapsed = Number(process.hrtime.bigint() - started) / 1000;
      if (child.status !== 0) {
        const lines = `${child.stderr}\n${child.stdout}`.trim().split('\n');
        const reason = lines.find((line) => /error|cannot/i.test(line)) ?? lines[0] ?? '';
        result.failure = `exit ${String(child.status ?? child.signal)}: ${reason.trim()}`;
        return;
      }
      result.samples.push(elapsed);
    });
  }
  return timed;
}

/** Issue 22's goals: what each command adds to Node.js start-up alone, at the median. */
const SIMULATE_OVER_NODE_US = 40_000;
const VERSION_OVER_NODE_US = 15_000;

/** A row of `ape` from its timings (or why it could not be timed). */
function cliRow(id: string, label: string, timed: Timed | undefined, unavailable: string): Row {
  if (timed === undefined)
    return { id, engine: 'ape', label, group: 'cli', status: 'unavailable', note: unavailable };
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
    const simulate = policy === undefined ? undefined : ['simulate', policy, 'read_file'];
    const launches: Launch[] = [{ args: ['-e', ''] }];
    if (binary !== undefined) {
      launches.push({ args: [binary, '--version'] });
      if (simulate !== undefined) {
        launches.push({ args: [binary, ...simulate] });
        launches.push({ args: [binary, ...simulate], env: { APE_CLI_BUNDLE: '0' } });
      }
    }
    const [baseline, version, bundled, unbundled] = timeInterleaved(launches, runs);
    const rows: Row[] = [
      cliRow('cli:simulate', 'ape simulate policies/example_policy.yaml read_file', bundled, unavailable),
      cliRow('cli:version', 'ape --version', version, unavailable),
      baseline!.failure === undefined
        ? measuredRow({
            id: 'cli:node-baseline',
            engine: 'node',
            label: 'node -e "" (the floor: Node.js start-up alone)',
            group: 'node',
            stats: statsOf(baseline!.samples),
          })
        : {
            id: 'cli:node-baseline',
            engine: 'node',
            label: 'node -e ""',
            group: 'node',
            status: 'failed',
            note: baseline!.failure,
          },
      cliRow(
        'cli:simulate-unbundled',
        'ape simulate, the same, with APE_CLI_BUNDLE=0 (the ES module program, as before the bundle)',
        unbundled,
        unavailable,
      ),
    ];
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
      [
        `${runs} launch${runs === 1 ? '' : 'es'} per row, in rounds that launch each row once, one after another; the median is the p50 column.`,
        'ape simulate runs from the bundled program with its V8 code cache (dist/policy-commands.cjs); the unbundled row is the same command through the ES module program.',
      ],
    );
  },
};
