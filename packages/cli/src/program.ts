import { Command } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { registerApprovalCommands } from './commands/approvals.js';
import { registerAttackCommand } from './commands/attack.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerConsoleCommand } from './commands/console.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDiffCommand } from './commands/diff.js';
import { registerExplainCommand } from './commands/explain.js';
import { registerInitCommand } from './commands/init.js';
import { registerMcpCommand } from './commands/mcp.js';
import { registerRevokeCommand } from './commands/revoke.js';
import { registerSimulateCommand } from './commands/simulate.js';
import { registerTestCommand } from './commands/test.js';
import { registerValidateCommand } from './commands/validate.js';
import { registerVerifyCommand } from './commands/verify.js';
import type { CommandContext } from './context.js';
import { addHelpExamples } from './help-examples.js';

/** @internal Registers one command (and its subcommands) on the program. */
export type CommandRegistration = (program: Command, context: CommandContext) => void;

const COMMANDS: readonly CommandRegistration[] = [
  registerValidateCommand,
  registerSimulateCommand,
  registerExplainCommand,
  registerTestCommand,
  registerAuditCommand,
  registerInitCommand,
  registerDemoCommand,
  registerAttackCommand,
  registerMcpCommand,
  registerVerifyCommand,
  registerDiffCommand,
  registerApprovalCommands,
  registerRevokeCommand,
  registerConsoleCommand,
];

/**
 * @internal Builds the `ape` program. Errors never exit the process: commander throws a
 * `CommanderError` that `runCli` turns into one line on stderr and an exit code.
 */
export function createProgram(context: CommandContext): Command {
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
  for (const register of COMMANDS) register(program, context);
  addHelpExamples(program);
  return program;
}
