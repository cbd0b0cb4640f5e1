import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { PolicyFinding, PolicyTestExpectation, PolicyTestResult } from '@ape/policy';
import type { Command } from 'commander';
import { CommandFailure } from '../command-failure.js';
import { type CommonOptions, withCommonOptions } from '../common-options.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import { type JunitSuite, junitReport } from '../junit.js';
import { formatFindingLine } from '../policy-input.js';
import { discoverTestFiles } from './test-discovery.js';

interface TestOptions extends CommonOptions {
  readonly junit?: string;
}

/** @internal One test file in the `--json` output of `ape test`. */
export interface TestedFile {
  readonly file: string;
  /** The policy under test, as a path relative to the working directory, once known. */
  readonly policy?: string;
  /** False when a case failed or the file could not run. */
  readonly ok: boolean;
  /** Why the file could not run: the test file's or the policy's error findings. */
  readonly findings?: readonly PolicyFinding[];
  readonly cases: readonly PolicyTestResult[];
}

/** @internal The `--json` output of `ape test`. */
export interface TestReport {
  readonly ok: boolean;
  readonly passed: number;
  readonly failed: number;
  /** Files that could not run (a malformed test file, an invalid or unreadable policy). */
  readonly errors: number;
  readonly files: readonly TestedFile[];
}

/** @internal `ape test [paths...]`: runs policy test files; exit 1 on a failed case, 2 when a file cannot run. */
export function registerTestCommand(program: Command, context: CommandContext): void {
  withCommonOptions(
    program
      .command('test')
      .description('run policy tests (*.test.yaml): each case is a request and the decision expected for it')
      .argument(
        '[paths...]',
        'test files, or directories searched for *.test.yaml (default: the current directory)',
      )
      .option('--junit <file>', 'also write a JUnit XML report to <file>, for CI'),
  ).action(async (paths: string[], options: TestOptions) => {
    const files = discoverTestFiles(context, paths);
    const { readPolicyTests, runPolicyTests, validatePolicy } = await import('@ape/policy');
    const policies = new Map<string, ReturnType<typeof validatePolicy>>();
    const tested = files.map((file): TestedFile => {
      const read = readPolicyTests(context.resolvePath(file));
      if (!read.ok) return { file, ok: false, findings: errorsOf(read.findings, context, file), cases: [] };
      const policy = relative(context.cwd, read.value.policy) || read.value.policy;
      let validation = policies.get(read.value.policy);
      if (validation === undefined) {
        validation = validatePolicy(read.value.policy);
        policies.set(read.value.policy, validation);
      }
      if (!validation.ok || validation.policy === undefined) {
        return {
          file,
          policy,
          ok: false,
          findings: errorsOf(validation.findings, context, policy),
          cases: [],
        };
      }
      const cases = runPolicyTests(validation.policy, read.value.cases);
      return { file, policy, ok: cases.every((result) => result.passed), cases };
    });
    const report = summarise(tested);
    if (report.errors > 0) context.fail(EXIT_CODES.CANNOT_RUN);
    else if (report.failed > 0) context.fail(EXIT_CODES.FINDING);
    if (options.junit !== undefined) writeJunit(context, options.junit, tested);
    if (options.json === true) {
      context.printJson(report);
      return;
    }
    printHuman(context, options, report);
  });
}

/** The error findings, with files named as relative paths (as the user would type them). */
function errorsOf(
  findings: readonly PolicyFinding[],
  context: CommandContext,
  shown: string,
): PolicyFinding[] {
  return findings
    .filter((finding) => finding.severity === 'error')
    .map((finding) =>
      finding.file === undefined ? finding : { ...finding, file: shownFile(context, finding.file, shown) },
    );
}

function shownFile(context: CommandContext, file: string, fallback: string): string {
  return relative(context.cwd, file) || fallback;
}

function summarise(files: readonly TestedFile[]): TestReport {
  let passed = 0;
  let failed = 0;
  let errors = 0;
  for (const file of files) {
    if (file.findings !== undefined) errors += 1;
    for (const result of file.cases) {
      if (result.passed) passed += 1;
      else failed += 1;
    }
  }
  return { ok: failed === 0 && errors === 0, passed, failed, errors, files };
}

function describeExpectation(expectation: PolicyTestExpectation): string {
  return expectation.rules === undefined
    ? expectation.decision
    : `${expectation.decision} [${expectation.rules.join(', ')}]`;
}

/** @internal The one-line account of a failed case: what was expected, what the policy said, and why. */
export function describeFailure(result: PolicyTestResult): string {
  return `expected ${describeExpectation(result.expected)}, got ${result.actual.decision} [${result.actual.rules.join(', ')}]: ${result.actual.reason}`;
}

function printHuman(context: CommandContext, options: TestOptions, report: TestReport): void {
  const style = context.style(options);
  for (const file of report.files) {
    const header = file.policy === undefined ? file.file : `${file.file} (policy ${file.policy})`;
    if (file.findings !== undefined) {
      context.print(`${style.red('ERROR')} ${header}: cannot run`);
      for (const finding of file.findings) {
        context.print(`  ${formatFindingLine(finding, finding.file ?? file.file)}`);
      }
      continue;
    }
    context.print(style.bold(header));
    for (const result of file.cases) {
      const where = result.line === undefined ? '' : style.dim(` (line ${result.line})`);
      if (result.passed) context.print(`  ${style.green('PASS')} ${result.name}${where}`);
      else context.print(`  ${style.red('FAIL')} ${result.name}${where}: ${describeFailure(result)}`);
    }
  }
  const parts = [`${report.passed} passed`, `${report.failed} failed`];
  if (report.errors > 0) parts.push(`${report.errors} file${report.errors === 1 ? '' : 's'} could not run`);
  const files = `${report.files.length} file${report.files.length === 1 ? '' : 's'}`;
  const summary = `${parts.join(', ')} (${files})`;
  context.print('', report.ok ? style.green(summary) : style.red(summary));
}

function writeJunit(context: CommandContext, given: string, files: readonly TestedFile[]): void {
  const suites: JunitSuite[] = files.map((file) => ({
    name: file.file,
    cases:
      file.findings !== undefined
        ? [
            {
              name: 'load',
              error: {
                message: `cannot run ${file.file}`,
                details: file.findings
                  .map((finding) => formatFindingLine(finding, finding.file ?? file.file))
                  .join('\n'),
              },
            },
          ]
        : file.cases.map((result) => ({
            name: result.name,
            ...(result.passed
              ? {}
              : { failure: { message: describeFailure(result), details: describeFailure(result) } }),
          })),
  }));
  try {
    writeFileSync(context.resolvePath(given), junitReport('ape test', suites), 'utf8');
  } catch (error) {
    throw new CommandFailure(
      `cannot write ${given}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
