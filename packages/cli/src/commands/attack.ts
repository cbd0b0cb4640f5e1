import type { Command } from 'commander';
import { type CommonOptions, withCommonOptions } from '../common-options.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { loadPolicyArgument } from '../policy-input.js';
import { formatTable } from '../text.js';

interface AttackOptions extends CommonOptions {
  readonly policy?: string;
}

/** The example policies @ape/reference-agent ships: the one published copy of `policies/`. */
async function shippedPolicies(): Promise<string> {
  const { shippedPoliciesDirectory } = await import('@ape/reference-agent');
  return shippedPoliciesDirectory();
}

/**
 * @internal `ape attack [--policy <file>]`: runs the attack battery of @ape/attack against a real
 * runtime and reports each scenario BLOCKED or SUCCEEDED with the check that stopped it. Exit 1 when any
 * attack succeeded.
 */
export function registerAttackCommand(program: Command, context: CommandContext): void {
  withCommonOptions(
    program
      .command('attack')
      .description('run the attack battery against a real runtime; exit 1 if any attack succeeds')
      .option(
        '--policy <file>',
        'run every scenario against this policy (default: the example policies, each scenario against the one it targets)',
      ),
  ).action(async (options: AttackOptions) => {
    // Loaded on demand: the other commands do not pay for the battery.
    const { runAttackBattery } = await import('@ape/attack');
    const report =
      options.policy === undefined
        ? await runAttackBattery({ policyDirectory: await shippedPolicies() })
        : await runAttackBattery({
            policy: await loadPolicyArgument(context, options.policy),
            label: options.policy,
          });
    if (!report.ok) context.fail(EXIT_CODES.FINDING);
    if (options.json === true) {
      context.printJson(report);
      return;
    }
    const style = context.style(options);
    const rows = report.scenarios.map((result) => [
      result.applicable ? result.verdict : `${result.verdict} (n/a)`,
      result.id,
      result.policy,
      result.verdict === 'BLOCKED' ? result.mechanism : result.detail,
    ]);
    const lines = formatTable(rows);
    report.scenarios.forEach((result, index) => {
      const line = lines[index] ?? '';
      context.print(result.verdict === 'BLOCKED' ? line : style.red(line));
    });
    const summary = `${report.total} attacks: ${report.blocked} blocked, ${report.succeeded} succeeded`;
    context.print('', report.ok ? style.green(summary) : style.red(style.bold(summary)));
    if (report.notApplicable > 0) {
      context.print(
        `${report.notApplicable} marked (n/a) do not apply to this policy: they attack actions it never names, which default deny stops.`,
      );
    }
    if (!report.ok) {
      context.print(
        'Each success names the rules that allowed the harmful call: change those rules, or accept the risk.',
      );
    }
  });
}
