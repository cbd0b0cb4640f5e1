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
      ...inexactNotes(rows),
      ...FOOTER,
    );
  });
}

/**
 * How to read the table, exactly as the evaluator decides (order never matters). Tenant rows apply
 * only to their tenant; the base rows to every tenant.
 */
const FOOTER = [
  'A row applies to a call when its action matches and its conditions hold. Then, whatever the order:',
  '  DENY if a DENY row applies, a LIMIT is used up, a TRANSITION forbids the call after the previous action,',
  '  or an ONLY row of the tenant does not list the action;',
  "  else ESCALATE if an ESCALATE row applies (a tenant's ESCALATE only where the base rows allow or escalate);",
  '  else ALLOW if an ALLOW row applies; else DENY (default deny).',
];

/** One line per rule whose conditions explain could not summarise exactly. */
function inexactNotes(rows: readonly ExplainRow[]): string[] {
  const seen = new Set<string>();
  const notes: string[] = [];
  for (const row of rows) {
    if (row.exact || seen.has(row.rule)) continue;
    seen.add(row.rule);
    notes.push(
      `Not summarised exactly: ${row.rule}${row.line === undefined ? '' : ` (line ${row.line})`}; read the rule itself.`,
    );
  }
  return notes.length === 0 ? [] : [...notes, ''];
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
