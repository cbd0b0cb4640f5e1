import type { Command } from 'commander';

/** @internal The options every command takes. */
export interface CommonOptions {
  readonly json?: boolean;
}

/**
 * @internal Adds `--json`, which every command takes. (`--no-color` is a program option: commander
 * lets it appear anywhere on the command line, before or after the command name.)
 */
export function withCommonOptions(command: Command): Command {
  return command.option('--json', 'print machine-readable JSON instead of text');
}
