import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { statsOf } from '../harness.js';
import { measuredRow, type Row } from '../report.js';
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
    const rows: Row[] = [];
    const label = 'ape simulate policies/example_policy.yaml read_file';
    if (binary === undefined || policy === undefined) {
      rows.push({
        id: 'cli:simulate',
        engine: 'ape',
        label,
        group: 'cli',
        status: 'unavailable',
        note:
          binary === undefined
            ? 'the ape binary (@ape/cli dist/bin.js) is not built'
            : 'policies/example_policy.yaml was not found',
      });
    } else {
      const timed = timeProcesses([binary, 'simulate', policy, 'read_file'], runs);
      rows.push(
        timed.failure === undefined
          ? measuredRow({
              id: 'cli:simulate',
              engine: 'ape',
              label,
              group: 'cli',
              stats: statsOf(timed.samples),
            })
          : { id: 'cli:simulate', engine: 'ape', label, group: 'cli', status: 'failed', note: timed.failure },
      );
    }
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
      [targetAtMost('case8-cli', 'case 8: CLI cold start (median)', rows[0], 200_000, 'p50Us')],
      [`${runs} launch${runs === 1 ? '' : 'es'} per row, one after another; the median is the p50 column.`],
    );
  },
};
