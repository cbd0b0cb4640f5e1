import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Decision } from '@ape/core';
import { diffPolicies, loadVerifiablePolicy, runSmtScript, type VerifiablePolicy } from '@ape/verify';
import { statsOf } from '../harness.js';
import type { Row } from '../report.js';
import { targetAtMost } from '../targets.js';
import type { BenchCase } from './context.js';
import { caseResult, repositoryRoot } from './shared.js';

/** Issue 17: `ape diff` of any two shipped policies in at most 2 s. */
const LIMIT_US = 2e6;

const RANK: Readonly<Record<Decision, number>> = { DENY: 0, ESCALATE: 1, ALLOW: 2 };

/** Throws unless `simulate` of both policies confirms every difference the diff reports. */
function expectConfirmed(
  a: VerifiablePolicy,
  b: VerifiablePolicy,
  diff: Awaited<ReturnType<typeof diffPolicies>>,
): void {
  for (const [list, side] of [
    [diff.onlyA, 'a'],
    [diff.onlyB, 'b'],
  ] as const) {
    for (const difference of list) {
      const decisionA = a.policy.simulate(difference.witness).decision;
      const decisionB = b.policy.simulate(difference.witness).decision;
      const more = side === 'a' ? RANK[decisionA] > RANK[decisionB] : RANK[decisionB] > RANK[decisionA];
      if (!more) throw new Error(`an unconfirmed difference was reported for ${difference.action}`);
    }
  }
}

/** Issue 17: the semantic diff of every pair of shipped policies, each timed once (Z3 started first). */
export const policyDiffCase: BenchCase = {
  id: 'policy-diff',
  title: 'Semantic diff of every pair of shipped policies (ape diff)',
  async run({ log }) {
    const root = repositoryRoot();
    if (root === undefined) throw new Error('policies/ not found above the bench package');
    const directory = join(root, 'policies');
    const names = readdirSync(directory)
      .filter((name) => name.endsWith('.yaml') && !name.endsWith('.test.yaml'))
      .sort();
    const policies = new Map(names.map((name) => [name, loadVerifiablePolicy(join(directory, name))]));
    // Z3's WebAssembly start-up is paid once per process, by the first command that needs it.
    const startup = performance.now();
    await runSmtScript('(check-sat)');
    const startupUs = (performance.now() - startup) * 1000;
    const rows: Row[] = [];
    let unknown = 0;
    for (let first = 0; first < names.length; first++) {
      for (let second = first + 1; second < names.length; second++) {
        const a = policies.get(names[first]!)!;
        const b = policies.get(names[second]!)!;
        log(`policy-diff: ${names[first]} ${names[second]}`);
        const started = performance.now();
        const diff = await diffPolicies(a, b);
        const elapsedUs = (performance.now() - started) * 1000;
        expectConfirmed(a, b, diff);
        unknown += diff.unknown.length;
        rows.push({
          id: `diff:${names[first]}:${names[second]}`,
          engine: 'ape',
          label: `diff ${names[first]} ${names[second]}`,
          group: 'policy-diff',
          status: 'measured',
          stats: statsOf([elapsedUs]),
          extra: {
            differences: diff.onlyA.length + diff.onlyB.length,
            unknown: diff.unknown.length,
            equivalent: String(diff.equivalent),
          },
        });
      }
    }
    const slowest = rows.reduce<Row | undefined>(
      (worst, row) =>
        worst === undefined || (row.stats?.meanUs ?? 0) > (worst.stats?.meanUs ?? 0) ? row : worst,
      undefined,
    );
    return caseResult(
      policyDiffCase,
      rows,
      [
        targetAtMost(
          'issue17-diff',
          'issue 17: ape diff of the slowest pair of shipped policies',
          slowest,
          LIMIT_US,
        ),
      ],
      [
        `One run per pair after Z3 started (${(startupUs / 1e6).toFixed(2)} s once per process, not counted).`,
        `Every reported difference was confirmed by simulate of both policies; ${unknown} comparison(s) undecided.`,
      ],
    );
  },
};
