#!/usr/bin/env node
import packageJson from '../package.json' with { type: 'json' };

// A closed pipe (`ape audit show log | head`) ends the command quietly; any other failure to write
// the output (a full disk) is one line and exit 2, never a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`ape: cannot write the output: ${error.message}\n`);
  process.exit(2);
});

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  // What `ape --version` prints through the full program, without loading it (CI and editors call
  // this to probe for the CLI).
  process.stdout.write(`${packageJson.version}\n`);
} else {
  import('./run-cli.js')
    .then(({ runCli }) =>
      runCli(argv, {
        stdout: process.stdout,
        stderr: process.stderr,
        env: process.env,
        cwd: process.cwd(),
      }),
    )
    .then(
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
