import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ape, createScratch, expectNoStackTrace, expectOneLineError } from './run-ape.js';

/** Every way the command can fail to run: exit 2, one line on stderr, never a stack trace. */
let scratch: ReturnType<typeof createScratch>;

beforeAll(() => {
  scratch = createScratch();
  writeFileSync(join(scratch.path, 'policy.yaml'), 'version: 1\nallowed_actions: [read_file]\n');
  writeFileSync(join(scratch.path, 'intent.json'), '{"allowed_actions": "everything"}');
  writeFileSync(join(scratch.path, 'broken-intent.json'), '{"allowed_actions": [');
  writeFileSync(join(scratch.path, 'batch.jsonl'), '{"action":"read_file"}\n{"action":"read_file"\n');
});
afterAll(() => scratch.remove());

const cases: readonly (readonly [string, readonly string[], RegExp])[] = [
  ['a missing policy file (validate)', ['validate', 'missing.yaml'], /missing\.yaml.*(ENOENT|no such file)/],
  ['a missing policy file (simulate)', ['simulate', 'missing.yaml', 'read_file'], /missing\.yaml/],
  ['a missing policy file (explain)', ['explain', 'missing.yaml'], /missing\.yaml/],
  ['a directory given as the policy', ['validate', '.'], /cannot read/],
  ['a missing audit log (verify)', ['audit', 'verify', 'missing.jsonl'], /missing\.jsonl/],
  ['a missing audit log (show)', ['audit', 'show', 'missing.jsonl'], /missing\.jsonl/],
  ['a missing audit log (tail)', ['audit', 'tail', 'missing.jsonl'], /missing\.jsonl/],
  [
    'bad JSON in --args',
    ['simulate', 'policy.yaml', 'read_file', '--args', '{"path":'],
    /--args is not valid JSON/,
  ],
  [
    '--args that is not an object',
    ['simulate', 'policy.yaml', 'read_file', '--args', '"text"'],
    /JSON object/,
  ],
  ['an unknown provenance label', ['simulate', 'policy.yaml', 'read_file', '--provenance', 'ADMIN'], /ADMIN/],
  ['a lower-case label', ['simulate', 'policy.yaml', 'read_file', '--provenance', 'user_trusted'], /label/],
  ['an invalid --intent file', ['simulate', 'policy.yaml', 'read_file', '--intent', 'intent.json'], /intent/],
  [
    'an --intent file that is not JSON',
    ['simulate', 'policy.yaml', 'a', '--intent', 'broken-intent.json'],
    /JSON/,
  ],
  [
    'a missing --intent file',
    ['simulate', 'policy.yaml', 'read_file', '--intent', 'nope.json'],
    /nope\.json/,
  ],
  ['a malformed --batch line', ['simulate', 'policy.yaml', '--batch', 'batch.jsonl'], /line 2/],
  ['a missing --batch file', ['simulate', 'policy.yaml', '--batch', 'nope.jsonl'], /nope\.jsonl/],
  ['an unknown flag', ['validate', 'policy.yaml', '--strict-mode'], /unknown option '--strict-mode'/],
  [
    'an unknown flag before the command',
    ['--verbose', 'validate', 'policy.yaml'],
    /unknown option '--verbose'/,
  ],
  ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
  ['an unknown audit subcommand', ['audit', 'erase', 'log.jsonl'], /unknown command 'erase'/],
  ['a missing argument', ['simulate'], /missing required argument/],
  ['a flag without its value', ['simulate', 'policy.yaml', 'read_file', '--tenant'], /argument missing/],
  ['a bad -n count', ['audit', 'tail', 'log.jsonl', '-n', 'ten'], /non-negative integer/],
];

describe('ape exits 2 with one line on stderr when it cannot run', () => {
  it.each(cases)('%s', (_name, args, message) => {
    const result = ape(args, { cwd: scratch.path });
    expectOneLineError(result, 2);
    expect(result.stderr).toMatch(message);
  });

  it('prints no stack trace even with --json', () => {
    const result = ape(['simulate', 'policy.yaml', 'read_file', '--args', '{', '--json'], {
      cwd: scratch.path,
    });
    expectOneLineError(result, 2);
    expect(result.stdout).toBe('');
  });

  it('shows the usage on stderr and exits 2 when no command is given', () => {
    const result = ape([], { cwd: scratch.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Usage: ape');
    expectNoStackTrace(result);
  });

  it('refuses to overwrite with init (exit 2) unless --force', () => {
    expect(ape(['init'], { cwd: scratch.path }).code).toBe(0);
    const again = ape(['init'], { cwd: scratch.path });
    expectOneLineError(again, 2);
    expect(again.stderr).toContain('--force');
    expect(ape(['init', '--force'], { cwd: scratch.path }).code).toBe(0);
  });
});

describe('help and version', () => {
  it('exits 0 for --help and --version', () => {
    const help = ape(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['validate', 'simulate', 'explain', 'audit', 'init']) {
      expect(help.stdout).toContain(command);
    }
    const version = ape(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    // The short form and the fast path print what the full program prints (with another flag).
    expect(ape(['-V']).stdout).toBe(version.stdout);
    const viaProgram = ape(['--no-color', '--version']);
    expect(viaProgram.code).toBe(0);
    expect(viaProgram.stdout).toBe(version.stdout);
  });

  it('lists every flag of simulate in its help', () => {
    const help = ape(['simulate', '--help']);
    expect(help.code).toBe(0);
    for (const flag of [
      '--args',
      '--provenance',
      '--tenant',
      '--intent',
      '--previous-action',
      '--batch',
      '--json',
    ]) {
      expect(help.stdout).toContain(flag);
    }
  });
});
