#!/usr/bin/env node
import packageJson from '../package.json' with { type: 'json' };
import { asksForVersion, guardStdout } from './process-start.js';

// The installed `ape` command, built as CommonJS (dist/ape.cjs): Node starts a CommonJS file without
// its ES module loader, so `ape --version` (how CI jobs and editors probe for the CLI) costs about
// what Node alone costs. Every other command imports the ES module program, dist/bin.js, which the
// build leaves external: one copy of each @ape package is loaded, as ES modules.
const argv = process.argv.slice(2);
if (asksForVersion(argv)) {
  guardStdout();
  process.stdout.write(`${packageJson.version}\n`);
} else {
  import('./bin.js').catch((error: unknown) => {
    process.stderr.write(`ape: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  });
}
