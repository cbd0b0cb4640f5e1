import type { CompiledPolicy, PolicyFinding } from '@ape/policy';
import { CommandFailure } from './command-failure.js';
import type { CommandContext } from './context.js';
import { EXIT_CODES } from './exit-codes.js';

/** @internal The finding code `@ape/policy` uses for a file it could not read. */
export const FILE_UNREADABLE = 'FILE_UNREADABLE';

/**
 * @internal Formats a finding as `file:line:col: severity CODE message [rule ids]`, naming the file
 * as the user typed it.
 */
export function formatFindingLine(finding: PolicyFinding, displayFile: string): string {
  let where = displayFile;
  if (finding.line !== undefined) where += `:${finding.line}:${finding.column ?? 1}`;
  const path = finding.path === undefined || finding.path === '$' ? '' : ` at ${finding.path}`;
  const rules =
    finding.rules === undefined || finding.rules.length === 0 ? '' : ` [${finding.rules.join(', ')}]`;
  return `${where}: ${finding.severity} ${finding.code} ${finding.message}${path}${rules}`;
}

/**
 * @internal Loads the policy a command works on. A file that cannot be read stops the command with
 * exit 2; a file that is not a valid policy with exit 1, naming its first error. `@ape/policy` is
 * loaded here, on first use, so commands that never read a policy do not pay for it.
 */
export async function loadPolicyArgument(context: CommandContext, given: string): Promise<CompiledPolicy> {
  const { validatePolicy } = await import('@ape/policy');
  const validation = validatePolicy(context.resolvePath(given));
  if (validation.ok && validation.policy !== undefined) return validation.policy;
  const unreadable = validation.findings.find((finding) => finding.code === FILE_UNREADABLE);
  if (unreadable !== undefined)
    throw new CommandFailure(`${given}: ${unreadable.message}`, EXIT_CODES.CANNOT_RUN);
  const errors = validation.findings.filter((finding) => finding.severity === 'error');
  const first = errors[0];
  const summary = first === undefined ? `${given}: not a valid policy` : formatFindingLine(first, given);
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  throw new CommandFailure(
    `invalid policy: ${summary}${more}; run "ape validate ${given}" for every finding`,
    EXIT_CODES.FINDING,
  );
}
