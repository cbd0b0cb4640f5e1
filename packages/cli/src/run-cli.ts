import { ALL_COMMANDS } from './commands.js';
import type { ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';
import { runProgram } from './run-program.js';

/**
 * Runs the `ape` command with `argv` (the arguments after the program name, such as
 * `['validate', 'policy.yaml']`) and resolves to its exit code (see `EXIT_CODES`). Never
 * rejects and never calls `process.exit`: user errors become one `ape: <message>` line on
 * `io.stderr`, unexpected errors a short line too (with the stack only when `APE_DEBUG=1`).
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  return runProgram(argv, io, ALL_COMMANDS);
}
