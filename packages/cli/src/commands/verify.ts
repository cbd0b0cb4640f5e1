import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  CheckResult,
  ExportFormat,
  PolicyAssertions,
  VerifiablePolicy,
  VerificationReport,
} from '@ape/verify';
import type { Command } from 'commander';
import { CommandFailure } from '../command-failure.js';
import { type CommonOptions, withCommonOptions } from '../common-options.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { loadPolicyArgument } from '../policy-input.js';
import type { Style } from '../style.js';

/**
 * @internal The formats `--export` takes: `@ape/verify`'s `EXPORT_FORMATS`, spelled out here so the
 * help text does not load the prover (a test keeps the two lists equal).
 */
export const EXPORT_FORMAT_NAMES: readonly ExportFormat[] = ['tla', 'alloy', 'smt2', 'dafny', 'json'];

/** The sibling module `ape verify` uses, loaded when it runs rather than when `ape` starts. */
type VerifyModule = typeof import('@ape/verify');

/** @internal Options of `ape verify`. */
export interface VerifyCommandOptions extends CommonOptions {
  readonly assert?: string;
  readonly export?: string;
  readonly out?: string;
}

/** @internal The `--json` output of `ape verify`: the report, plus the files written by `--export`. */
export interface VerifyJson extends VerificationReport {
  readonly exported?: readonly string[];
}

/**
 * @internal Loads a policy for verification: unreadable → exit 2, invalid → exit 1, with the same
 * one-line messages as every other command.
 */
export async function loadVerifiableArgument(
  context: CommandContext,
  given: string,
): Promise<VerifiablePolicy> {
  await loadPolicyArgument(context, given);
  const { loadVerifiablePolicy } = await import('@ape/verify');
  return loadVerifiablePolicy(context.resolvePath(given));
}

async function readAssertions(
  context: CommandContext,
  verify: VerifyModule,
  given: string,
): Promise<PolicyAssertions> {
  const { PolicyError } = await import('@ape/core');
  try {
    return verify.loadAssertions(context.resolvePath(given));
  } catch (error) {
    if (PolicyError.isInstance(error)) {
      throw new CommandFailure(`assertions: ${error.message.replace(context.resolvePath(given), given)}`);
    }
    throw error;
  }
}

function exportFormat(text: string | undefined): ExportFormat | undefined {
  if (text === undefined) return undefined;
  if (!(EXPORT_FORMAT_NAMES as readonly string[]).includes(text)) {
    throw new CommandFailure(
      `--export must be one of ${EXPORT_FORMAT_NAMES.join(', ')} (got ${JSON.stringify(text)})`,
    );
  }
  return text as ExportFormat;
}

/**
 * @internal `ape verify <policy>`: proves the policy's invariants and the user's assertions with Z3;
 * exit 1 with counterexamples when a check fails. `verify-policy <policy>` (the seed's command)
 * prints the JSON model.
 */
export function registerVerifyCommand(program: Command, context: CommandContext): void {
  withCommonOptions(
    program
      .command('verify')
      .description(
        "prove a policy's invariants and assertions with Z3; exit 1 with counterexamples when one fails",
      )
      .argument('<policy>', 'the policy file')
      .option('--assert <file>', 'a YAML file of assertions: always_deny, never_allow_with, must_escalate')
      .option('--export <format>', `also write the model: ${EXPORT_FORMAT_NAMES.join(', ')}`)
      .option('--out <dir>', 'the directory --export writes to (default: the working directory)'),
  ).action(async (policyFile: string, options: VerifyCommandOptions) => {
    const format = exportFormat(options.export);
    if (options.out !== undefined && format === undefined)
      throw new CommandFailure('--out needs --export <format>');
    const verify = await import('@ape/verify');
    const assertions =
      options.assert === undefined ? undefined : await readAssertions(context, verify, options.assert);
    const verifiable = await loadVerifiableArgument(context, policyFile);
    const report = await verify.verifyPolicy(verifiable, assertions === undefined ? {} : { assertions });
    const exported =
      format === undefined
        ? undefined
        : writeExport(context, verify, verifiable, format, options.out, assertions);
    if (!report.ok) context.fail(EXIT_CODES.FINDING);
    if (options.json === true) {
      const json: VerifyJson = { ...report, ...(exported === undefined ? {} : { exported }) };
      context.printJson(json);
      return;
    }
    printHuman(context, policyFile, report, exported, context.style(options));
  });

  withCommonOptions(
    program
      .command('verify-policy')
      .description(
        'print the verification model of a policy as JSON (ACTIONS, ALLOW, DENY, ESCALATE, rules, ...)',
      )
      .argument('<policy>', 'the policy file'),
  ).action(async (policyFile: string) => {
    const verifiable = await loadVerifiableArgument(context, policyFile);
    const { exportPolicyModel } = await import('@ape/verify');
    context.printJson(exportPolicyModel(verifiable));
  });
}

function writeExport(
  context: CommandContext,
  verify: VerifyModule,
  verifiable: VerifiablePolicy,
  format: ExportFormat,
  out: string | undefined,
  assertions: PolicyAssertions | undefined,
): string[] {
  const directory = context.resolvePath(out ?? '.');
  const files = verify.exportModel(verify.exportPolicyModel(verifiable), format, assertions);
  try {
    mkdirSync(directory, { recursive: true });
    for (const file of files) writeFileSync(join(directory, file.name), file.content);
  } catch (error) {
    throw new CommandFailure(
      `cannot write the export to ${out ?? '.'}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return files.map((file) => join(out ?? '.', file.name));
}

function statusText(result: CheckResult, style: Style): string {
  switch (result.status) {
    case 'pass':
      return style.green('pass');
    case 'warning':
      return style.yellow('warn');
    case 'inconclusive':
      return style.yellow('unproved');
    default:
      return style.red('FAIL');
  }
}

function printHuman(
  context: CommandContext,
  file: string,
  report: VerificationReport,
  exported: readonly string[] | undefined,
  style: Style,
): void {
  context.print(
    `${style.bold('verify')} ${file} ${style.dim(`(${report.policy} ${report.digest.slice(0, 12)})`)}`,
  );
  for (const result of report.checks) {
    if (result.status === 'pass' && result.kind === 'dead_rule') continue;
    context.print(`  ${statusText(result, style)} ${result.id}: ${result.message}`);
    const example = result.counterexample;
    if (example !== undefined && result.status !== 'pass') {
      const decided = example.decision === undefined ? '' : ` -> ${example.decision}`;
      const base = example.baseDecision === undefined ? '' : ` (base policy: ${example.baseDecision})`;
      context.print(`      counterexample: ${JSON.stringify(example.request)}${decided}${base}`);
    }
  }
  const count = (status: CheckResult['status']): number =>
    report.checks.filter((result) => result.status === status).length;
  if (report.approximations.length > 0) {
    context.print(
      style.dim(
        `  ${report.approximations.length} condition(s) over-approximated (run with --json for the list)`,
      ),
    );
  }
  for (const path of exported ?? []) context.print(`wrote ${path}`);
  const summary = `${count('pass')} passed, ${count('fail')} failed, ${count('inconclusive')} unproved, ${count('warning')} warning(s)`;
  context.print(
    report.ok ? `${style.green('verified')} ${summary}` : `${style.red('not verified')} ${summary}`,
  );
}
