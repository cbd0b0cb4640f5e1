import { registerExplainCommand } from './commands/explain.js';
import { registerInitCommand } from './commands/init.js';
import { registerSimulateCommand } from './commands/simulate.js';
import { registerTestCommand } from './commands/test.js';
import { registerValidateCommand } from './commands/validate.js';
import type { ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';
import type { CommandRegistration } from './program.js';
import { runProgram } from './run-program.js';

// The entry of the bundled program, dist/policy-commands.cjs: the policy commands, with `@ape/core`,
// `@ape/policy`, `@ape/provenance` and the packages they use (`yaml`, `commander`, ajv, re2js) built into
// one CommonJS file (the manifest beside it lists each package and its version). The
// launcher (launcher.ts, bundled-start.ts) runs these commands from it, with the V8 code cache the
// build writes beside it, and runs the unbundled program instead when any check fails.

/** @internal The policy commands, in the order `ape --help` lists them. */
export const POLICY_COMMANDS: readonly CommandRegistration[] = [
  registerValidateCommand,
  registerSimulateCommand,
  registerExplainCommand,
  registerTestCommand,
  registerInitCommand,
];

/** @internal Runs `ape <argv>` for one of the policy commands; as `runCli`, never rejects. */
export function runPolicyCommand(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  return runProgram(argv, io, POLICY_COMMANDS);
}
