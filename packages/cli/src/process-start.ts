import type { ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';

/**
 * @internal Makes a failure to write the output end the process cleanly: a closed pipe
 * (`ape audit show log | head`) ends the command quietly with the exit code it has so far; any other
 * failure (a full disk) is one line on stderr and exit 2, never a stack trace.
 */
export function guardStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    process.stderr.write(`ape: cannot write the output: ${error.message}\n`);
    process.exit(2);
  });
}

/** @internal True when the arguments ask only for the version (`ape --version`, `ape -V`). */
export function asksForVersion(argv: readonly string[]): boolean {
  return argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V');
}

/** @internal The process's own streams, environment and directory, for `runCli`. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/**
 * @internal Sets the process's exit code from a run of the program. `runCli` never rejects; if
 * loading the program does, that is one `ape: internal error` line and exit 2.
 */
export function exitWith(run: Promise<ExitCode>): void {
  run.then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `ape: internal error: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exitCode = 2;
    },
  );
}
