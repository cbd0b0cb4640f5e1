#!/usr/bin/env node
import packageJson from '../package.json' with { type: 'json' };
import { POLICY_COMMAND_NAMES } from './policy-command-names.js';
import { asksForVersion, exitWith, guardStdout, processIo } from './process-start.js';

// The installed `ape` command, built as CommonJS (dist/ape.cjs): Node starts a CommonJS file without
// its ES module loader, so `ape --version` (how CI jobs and editors probe for the CLI) costs about
// what Node alone costs. The policy commands (`ape validate`, `simulate`, `explain`, `test`, `init`)
// run from the bundled program, dist/policy-commands.cjs, when its checks pass (bundled-start.ts);
// every other command, and a policy command whose bundle does not pass them or with
// APE_CLI_BUNDLE=0, imports the ES module program, dist/bin.js, which the build leaves external:
// one copy of each @ape package is loaded, as ES modules.
const argv = process.argv.slice(2);
if (asksForVersion(argv)) {
  guardStdout();
  process.stdout.write(`${packageJson.version}\n`);
} else {
  start(argv).catch((error: unknown) => {
    process.stderr.write(`ape: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  });
}

/** Runs a command: a policy command from the bundle when it passes its checks, else the ES module program. */
async function start(argv: readonly string[]): Promise<void> {
  const policyCommand = argv[0] !== undefined && POLICY_COMMAND_NAMES.includes(argv[0]);
  // Imported here, not at the top: `ape --version` and the other commands do not load node:crypto.
  const bundled = !policyCommand
    ? undefined
    : process.env['APE_CLI_BUNDLE'] === '0'
      ? { ok: false as const, reason: 'APE_CLI_BUNDLE=0' }
      : (await import('./bundled-start.js')).loadPolicyCommands(__dirname);
  const debug = process.env['APE_DEBUG'] === '1';
  if (bundled?.ok === true) {
    if (debug)
      process.stderr.write(`ape: debug: started from the bundled program (code cache: ${bundled.cache})\n`);
    guardStdout();
    exitWith(bundled.module.runPolicyCommand(argv, processIo()));
    return;
  }
  if (bundled !== undefined && debug) {
    process.stderr.write(`ape: debug: running the unbundled program: ${bundled.reason}\n`);
  }
  await import('./bin.js');
}
