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
