import { Command } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import type { CommandContext } from './context.js';
import { addHelpExamples } from './help-examples.js';

/** @internal Registers one command (and its subcommands) on the program. */
export type CommandRegistration = (program: Command, context: CommandContext) => void;

/**
 * @internal Builds the `ape` program with `commands`: all of them (`ALL_COMMANDS`, commands.ts), or
 * the policy commands alone (the bundled program, policy-commands.ts). Errors never exit the
 * process: commander throws a `CommanderError` that `runCli` turns into one line on stderr and an
 * exit code.
 */
export function createProgram(context: CommandContext, commands: readonly CommandRegistration[]): Command {
  const program = new Command('ape')
    .description(
      'APE, the Agent Policy Engine: validate, simulate and explain policies, verify audit logs, run the demo.',
    )
    .version(packageJson.version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--no-color', 'never colour the output (also: NO_COLOR=1)')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => context.io.stdout.write(text),
      writeErr: (text) => context.io.stderr.write(text),
      outputError: () => undefined,
    });
  program.hook('preAction', () => {
    if (program.opts()['color'] === false) context.disableColor();
  });
  for (const register of commands) register(program, context);
  addHelpExamples(program);
  return program;
}
