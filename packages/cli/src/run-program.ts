import { CommanderError } from 'commander';
import { CommandFailure } from './command-failure.js';
import { type CommandContext, createCommandContext } from './context.js';
import { EXIT_CODES, type ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';
import { type CommandRegistration, createProgram } from './program.js';

const HELP_CODES: ReadonlySet<string> = new Set([
  'commander.help',
  'commander.helpDisplayed',
  'commander.version',
]);

/**
 * @internal `runCli` (run-cli.ts) with the program made of `commands`: all of them, or the policy commands
 * alone in the bundled program (policy-commands.ts).
 */
export async function runProgram(
  argv: readonly string[],
  io: CliIo,
  commands: readonly CommandRegistration[],
): Promise<ExitCode> {
  const context = createCommandContext(io);
  try {
    await createProgram(context, commands).parseAsync([...argv], { from: 'user' });
    return context.exitCode;
  } catch (error) {
    return await reportError(error, context);
  }
}

async function reportError(error: unknown, context: CommandContext): Promise<ExitCode> {
  if (error instanceof CommanderError) {
    if (HELP_CODES.has(error.code)) return error.exitCode === 0 ? EXIT_CODES.OK : EXIT_CODES.CANNOT_RUN;
    context.printError(error.message.replace(/^error: /, ''));
    return EXIT_CODES.CANNOT_RUN;
  }
  if (error instanceof CommandFailure) {
    context.printError(error.message);
    return error.exitCode;
  }
  // Loaded here, not at start: a run that never touches a policy or an intent does not pay for it.
  const { ApeError } = await import('@ape/core');
  if (ApeError.isInstance(error)) {
    context.printError(error.message);
    return EXIT_CODES.CANNOT_RUN;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (context.env['APE_DEBUG'] === '1') {
    context.printError(`internal error: ${message}`);
    context.io.stderr.write(`${error instanceof Error ? (error.stack ?? message) : message}\n`);
  } else {
    context.printError(`internal error: ${message} (set APE_DEBUG=1 for details)`);
  }
  return EXIT_CODES.CANNOT_RUN;
}
