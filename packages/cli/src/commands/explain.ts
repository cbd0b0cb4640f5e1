import type { ExplainKind, ExplainRow } from '@ape/policy';
import type { Command } from 'commander';
import { type CommonOptions, withCommonOptions } from '../common-options.js';
import type { CommandContext } from '../context.js';
import { loadPolicyArgument } from '../policy-input.js';
import type { Style } from '../style.js';
import { formatTable } from '../text.js';

/** @internal The `--json` output of `ape explain`. */
export interface ExplainReport {
  readonly name: string;
  readonly digest: string;
  readonly tenants: readonly string[];
  readonly rows: readonly ExplainRow[];
}

const EFFECT_ORDER: Readonly<Record<ExplainKind, number>> = {
  deny: 0,
  escalate: 1,
  allow: 2,
  limit: 3,
  transition: 4,
  tenant_filter: 5,
};

const EFFECT_LABEL: Readonly<Record<ExplainKind, string>> = {
  deny: 'DENY',
  escalate: 'ESCALATE',
  allow: 'ALLOW',
  limit: 'LIMIT',
  transition: 'TRANSITION',
  tenant_filter: 'ONLY',
};

/** @internal `ape explain <policy>`: a table of what the policy allows, denies and escalates. */
export function registerExplainCommand(program: Command, context: CommandContext): void {
  withCommonOptions(
    program
      .command('explain')
      .description('print a table of what a policy allows, denies and escalates')
      .argument('<policy>', 'the policy file'),
  ).action(async (policyFile: string, options: CommonOptions) => {
    const policy = await loadPolicyArgument(context, policyFile);
    const rows = sortRows(policy.explain());
    if (options.json === true) {
      const report: ExplainReport = {
        name: policy.name,
        digest: policy.digest,
        tenants: policy.tenants,
        rows,
      };
      context.printJson(report);
      return;
    }
    const style = context.style(options);
    const withTenants = rows.some((row) => row.tenant !== null);
    const header = ['EFFECT', 'ACTIONS', 'CONDITIONS', 'RULE', ...(withTenants ? ['TENANT'] : [])];
    const body = rows.map((row) => [
      EFFECT_LABEL[row.effect],
      row.action,
      row.conditions,
      row.rule,
      ...(withTenants ? [row.tenant ?? '(all)'] : []),
    ]);
    const lines = formatTable([header, ...body]);
    context.print(
      `${style.bold(`policy ${policy.name}`)} ${style.dim(policy.digest)}`,
      '',
      style.bold(lines[0] ?? ''),
      ...lines.slice(1).map((line, index) => colourRow(line, rows[index]?.effect, style)),
      '',
      'Anything not allowed above is denied (default deny). Deny > escalate > allow, whatever the order.',
    );
  });
}

/** @internal Deny rows first, then escalate, allow, limits, transitions; stable within a kind. */
export function sortRows(rows: readonly ExplainRow[]): ExplainRow[] {
  return rows
    .map((row, index) => ({ row, index }))
    .sort((a, b) => EFFECT_ORDER[a.row.effect] - EFFECT_ORDER[b.row.effect] || a.index - b.index)
    .map(({ row }) => row);
}

function colourRow(line: string, effect: ExplainKind | undefined, style: Style): string {
  if (effect === 'deny') return style.red(line);
  if (effect === 'escalate') return style.yellow(line);
  if (effect === 'allow') return style.green(line);
  return line;
}
