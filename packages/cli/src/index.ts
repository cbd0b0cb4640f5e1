/**
 * `@ape/cli`: the `ape` command. The binary is `ape` (`dist/ape.cjs`, a launcher that imports the
 * program, `dist/bin.js`); this entry point lets a host or a test embed the same command without
 * spawning a process.
 *
 * @packageDocumentation
 */
export type { ExitCode } from './exit-codes.js';
export { EXIT_CODES } from './exit-codes.js';
export type { CliIo, CliOutput } from './io.js';
export { runCli } from './run-cli.js';
export { STARTER_POLICY, STARTER_POLICY_FILE } from './starter-policy.js';
