import type { PolicyFinding, validatePolicy } from '@ape/policy';
import type { Command } from 'commander';
import { type CommonOptions, withCommonOptions } from '../common-options.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { FILE_UNREADABLE, formatFindingLine } from '../policy-input.js';
import type { Style } from '../style.js';

/** @internal The `--json` output of `ape validate`. */
export interface ValidateReport {
  readonly ok: boolean;
  readonly files: readonly ValidatedFile[];
}

/** @internal One file in a {@link ValidateReport}. */
export interface ValidatedFile {
  readonly file: string;
  readonly ok: boolean;
  readonly digest?: string;
  readonly findings: readonly PolicyFinding[];
}

/** @internal `ape validate <policy>...` (alias `validate-policy`): schema and lint checks. */
export function registerValidateCommand(program: Command, context: CommandContext): void {
  withCommonOptions(
    program
      .command('validate')
      .alias('validate-policy')
      .description('check policy files: YAML, schema, limits and lint; exit 1 on any error finding')
      .argument('<policy...>', 'policy files (YAML, or JSON with a .json extension)'),
  ).action(async (files: string[], options: CommonOptions) => {
    const { validatePolicy } = await import('@ape/policy');
    const results = files.map((file) => validateOne(context, validatePolicy, file));
    const report: ValidateReport = { ok: results.every((result) => result.ok), files: results };
    for (const result of results) {
      const unreadable = result.findings.find((finding) => finding.code === FILE_UNREADABLE);
      if (unreadable !== undefined) {
        context.printError(`${result.file}: ${unreadable.message}`);
        context.fail(EXIT_CODES.CANNOT_RUN);
      } else if (!result.ok) {
        context.fail(EXIT_CODES.FINDING);
      }
    }
    if (options.json === true) {
      context.printJson(report);
      return;
    }
    const style = context.style(options);
    for (const result of results) printHuman(context, result, style);
  });
}

function validateOne(context: CommandContext, validate: typeof validatePolicy, file: string): ValidatedFile {
  const resolved = context.resolvePath(file);
  const validation = validate(resolved);
  const findings = validation.findings.map((finding) =>
    finding.file === resolved ? { ...finding, file } : finding,
  );
  return {
    file,
    ok: validation.ok,
    ...(validation.policy === undefined ? {} : { digest: validation.policy.digest }),
    findings,
  };
}

function printHuman(context: CommandContext, result: ValidatedFile, style: Style): void {
  if (result.findings.some((finding) => finding.code === FILE_UNREADABLE)) return;
  for (const finding of result.findings) {
    const line = formatFindingLine(finding, result.file);
    context.print(finding.severity === 'error' ? style.red(line) : style.yellow(line));
  }
  const warnings = result.findings.filter((finding) => finding.severity === 'warning').length;
  const errors = result.findings.length - warnings;
  if (result.ok) {
    const suffix = warnings === 0 ? '' : ` (${warnings} warning${warnings === 1 ? '' : 's'})`;
    context.print(`${style.green('valid')} ${result.file}${suffix}`);
  } else {
    context.print(`${style.red('invalid')} ${result.file}: ${errors} error${errors === 1 ? '' : 's'}`);
  }
}
