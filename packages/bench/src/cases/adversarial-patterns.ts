import { compilePolicy } from '@ape/policy';
import { measureSync } from '../harness.js';
import { measuredRow, type Row } from '../report.js';
import { targetAtMost } from '../targets.js';
import { request } from '../workloads.js';
import type { BenchCase } from './context.js';
import { caseResult, expectDecisions } from './shared.js';

/**
 * Patterns that stall a backtracking engine (issue 16, finding 1), each with a 10,000-character
 * argument built to make it backtrack. On V8's RegExp the first two take longer than any run
 * budget (a 28-character argument already takes 20 s); APE runs policy patterns on RE2.
 */
const ADVERSARIAL: readonly { readonly pattern: string; readonly argument: string }[] = [
  { pattern: '^(a+){1,30}$', argument: `${'a'.repeat(9_999)}!` },
  { pattern: '^(\\w+\\s?){1,64}$', argument: `${'ab '.repeat(3_333)}!` },
  { pattern: '^\\d*\\d*\\d*\\d*\\d*\\d*x$', argument: '1'.repeat(10_000) },
];

/** Worst acceptable mean for one decision on a 10,000-character adversarial argument (µs). */
const LIMIT_US = 50_000;

/** ReDoS: a decision whose argument pattern is adversarial, on a 10,000-character argument. */
export const adversarialPatternsCase: BenchCase = {
  id: 'adversarial-patterns',
  title:
    'Decision with an adversarial argument pattern on a 10,000-character argument (linear-time regex engine)',
  async run({ settings }) {
    const rows: Row[] = [];
    for (const [index, { pattern, argument }] of ADVERSARIAL.entries()) {
      const policy = compilePolicy({
        version: 1,
        rules: [
          {
            id: 'pattern',
            actions: ['write_file'],
            effect: 'allow',
            when: { args: { type: 'object', properties: { path: { type: 'string', pattern } } } },
          },
        ],
      });
      const call = request('write_file', { path: argument });
      expectDecisions(`APE (${pattern})`, [policy.evaluate(call).decision], ['DENY']);
      rows.push(
        measuredRow({
          id: `adversarial:${index}:ape`,
          engine: 'ape',
          label: `policy.evaluate, pattern ${pattern}, 10,000 characters`,
          group: 'redos',
          stats: await measureSync(`ape-redos-${index}`, () => policy.evaluate(call), settings, {
            batch: 1,
          }),
        }),
      );
    }
    return caseResult(
      adversarialPatternsCase,
      rows,
      rows.map((row, index) =>
        targetAtMost(
          `redos-${index}`,
          `ReDoS: APE decision, ${ADVERSARIAL[index]!.pattern} on 10,000 characters (mean)`,
          row,
          LIMIT_US,
        ),
      ),
      [
        'The same patterns on V8 RegExp do not finish within the run budget; they are not measured.',
        'Every policy pattern runs on RE2 (re2js): matching time is linear in the argument length.',
      ],
    );
  },
};
