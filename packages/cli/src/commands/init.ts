import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CommandFailure } from '../command-failure.js';
import { type CommonOptions, withCommonOptions } from '../common-options.js';
import type { CommandContext } from '../context.js';
import { apeCommand, policySchemaReference } from '../invocation.js';
import { POLICY_SCHEMA_URL, STARTER_POLICY, STARTER_POLICY_FILE } from '../starter-policy.js';

interface InitOptions extends CommonOptions {
  readonly dir?: string;
  readonly force?: boolean;
}

/** @internal `ape init [--dir <dir>] [--force]`: writes a commented starter policy. */
export function registerInitCommand(program: Command, context: CommandContext): void {
  withCommonOptions(
    program
      .command('init')
      .description(`write a commented starter policy, ${STARTER_POLICY_FILE}`)
      .option('--dir <dir>', 'the directory to write it in (created if missing)', '.')
      .option('--force', 'overwrite an existing file'),
  ).action((options: InitOptions) => {
    const directory = context.resolvePath(options.dir ?? '.');
    const file = join(directory, STARTER_POLICY_FILE);
    try {
      mkdirSync(directory, { recursive: true });
    } catch (error) {
      // Apart from the write: a file in the way of --dir also fails with EEXIST, which --force does not fix.
      throw new CommandFailure(
        `cannot create the directory ${directory}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    try {
      // The schema reference resolves offline: the installed @ape/policy's file, not a URL.
      const text = STARTER_POLICY.replace(
        POLICY_SCHEMA_URL,
        policySchemaReference(directory, POLICY_SCHEMA_URL),
      );
      writeFileSync(file, text, { encoding: 'utf8', flag: options.force === true ? 'w' : 'wx' });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'EEXIST') throw new CommandFailure(`${file} already exists; use --force to overwrite it`);
      throw new CommandFailure(
        `cannot write ${file}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (options.json === true) {
      context.printJson({ file, written: true });
      return;
    }
    const shown = join(options.dir ?? '.', STARTER_POLICY_FILE);
    context.print(
      `${context.style(options).green('wrote')} ${shown}`,
      `next: ${apeCommand(context)} validate ${shown}`,
    );
  });
}
