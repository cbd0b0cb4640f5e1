import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { run } from './__fixtures__/test-io.js';
import { ALL_COMMANDS } from './commands.js';
import { createCommandContext } from './context.js';
import { HELP_EXAMPLES } from './help-examples.js';
import { createProgram } from './program.js';

function leafPaths(command: Command, prefix = ''): string[] {
  return command.commands.flatMap((sub) => {
    const path = prefix === '' ? sub.name() : `${prefix} ${sub.name()}`;
    return sub.commands.length === 0 ? [path] : leafPaths(sub, path);
  });
}

describe('help examples', () => {
  it('has at least one example for every command, and none for a command that does not exist', () => {
    const program = createProgram(
      createCommandContext({ stdout: { write: () => true }, stderr: { write: () => true } }),
      ALL_COMMANDS,
    );
    const paths = leafPaths(program).sort();
    expect(Object.keys(HELP_EXAMPLES).sort()).toEqual(paths);
    for (const path of paths) expect(HELP_EXAMPLES[path]?.length).toBeGreaterThan(0);
  });

  it('prints the examples at the end of a command help, for subcommands too', async () => {
    const test = await run(['test', '--help']);
    expect(test.code).toBe(0);
    expect(test.stdout).toContain('Examples:\n  ape test ');
    const verify = await run(['audit', 'verify', '--help']);
    expect(verify.stdout).toContain('Examples:\n  ape audit verify audit.jsonl\n');
  });

  it('never suggests npx ape, which would fetch an unrelated package', () => {
    for (const examples of Object.values(HELP_EXAMPLES)) {
      for (const example of examples) expect(example).not.toMatch(/npx ape\b/);
    }
  });
});
