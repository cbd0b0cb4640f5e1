import type { PolicyDiff, PolicyDifference } from '@ape/verify';
import type { Command } from 'commander';
import { type CommonOptions, withCommonOptions } from '../common-options.js';
import type { CommandContext } from '../context.js';
import { EXIT_CODES } from '../exit-codes.js';
import type { Style } from '../style.js';
import { colourDecision } from './simulate.js';
import { loadVerifiableArgument } from './verify.js';

/**
 * @internal `ape diff <old> <new>`: the calls one policy decides more permissively than the other,
 * one confirmed witness per action, and apart from them the comparisons that could not be decided;
 * exit 0 only when equivalence is proved, 1 otherwise.
 */
export function registerDiffCommand(program: Command, context: CommandContext): void {
  withCommonOptions(
    program
      .command('diff')
      .description(
        'compare two policies semantically; exit 1 with a witness call per action when they differ (or when equivalence is not proved)',
      )
      .argument('<old>', 'the old policy file')
      .argument('<new>', 'the new policy file'),
  ).action(async (oldFile: string, newFile: string, options: CommonOptions) => {
    const before = await loadVerifiableArgument(context, oldFile);
    const after = await loadVerifiableArgument(context, newFile);
    const { diffPolicies } = await import('@ape/verify');
    const diff = await diffPolicies(before, after);
    if (!diff.equivalent) context.fail(EXIT_CODES.FINDING);
    if (options.json === true) {
      context.printJson(diff);
      return;
    }
    printHuman(context, oldFile, newFile, diff, context.style(options));
  });
}

function printDifference(context: CommandContext, difference: PolicyDifference, style: Style): void {
  const { witness, decisions } = difference;
  context.print(
    `  ${difference.action}: old ${colourDecision(decisions.a, style)}, new ${colourDecision(decisions.b, style)}`,
    `      witness: ${JSON.stringify(witness)}`,
  );
}

function printHuman(
  context: CommandContext,
  oldFile: string,
  newFile: string,
  diff: PolicyDiff,
  style: Style,
): void {
  if (diff.equivalent) {
    context.print(`${style.green('equivalent')} ${oldFile} ${newFile}: every call gets the same decision`);
    return;
  }
  if (diff.onlyB.length > 0) {
    context.print(`${style.red('more permissive')} in ${newFile}:`);
    for (const difference of diff.onlyB) printDifference(context, difference, style);
  }
  if (diff.onlyA.length > 0) {
    context.print(`${style.yellow('less permissive')} in ${newFile}:`);
    for (const difference of diff.onlyA) printDifference(context, difference, style);
  }
  if (diff.unknown.length > 0) {
    context.print(`${style.dim('unknown')} (neither proved equal nor shown different; not differences):`);
    for (const undecided of diff.unknown) {
      const side =
        undecided.direction === 'onlyB' ? `${newFile} more permissive?` : `${newFile} less permissive?`;
      context.print(`  ${undecided.action}: ${side} ${undecided.reason}`);
    }
  }
  const differing = diff.onlyB.length + diff.onlyA.length;
  context.print(
    differing > 0
      ? `${style.red('different')} ${differing} difference(s), each with a witness both policies confirm`
      : `${style.yellow('not proved equivalent')}: ${diff.unknown.length} comparison(s) undecided, no difference found`,
  );
}
