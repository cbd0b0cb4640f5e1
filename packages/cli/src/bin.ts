#!/usr/bin/env node
import packageJson from '../package.json' with { type: 'json' };
import { asksForVersion, exitWith, guardStdout, processIo } from './process-start.js';

// The `ape` program (ES module). The installed `ape` command is dist/ape.cjs (launcher.ts), which
// answers `--version` without starting the ES module loader and imports this file for the rest.
guardStdout();

const argv = process.argv.slice(2);
if (asksForVersion(argv)) {
  // What `ape --version` prints through the full program, without loading it.
  process.stdout.write(`${packageJson.version}\n`);
} else {
  exitWith(import('./run-cli.js').then(({ runCli }) => runCli(argv, processIo())));
}
