import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempDirectory, run } from '../__fixtures__/test-io.js';
import { POLICY_SCHEMA_URL, STARTER_POLICY, STARTER_POLICY_FILE } from '../starter-policy.js';

let temp: ReturnType<typeof createTempDirectory>;
beforeEach(() => {
  temp = createTempDirectory();
});
afterEach(() => temp.remove());

describe('ape init', () => {
  it('writes the starter policy with its $schema line into the working directory', async () => {
    const result = await run(['init'], { cwd: temp.path });
    expect(result.code).toBe(0);
    const text = readFileSync(join(temp.path, STARTER_POLICY_FILE), 'utf8');
    const [first, ...rest] = text.split('\n');
    expect(rest).toEqual(STARTER_POLICY.split('\n').slice(1));
    // No @ape/policy beside the file: the schema of the @ape/policy the CLI itself uses, on disk.
    const reference = /^# yaml-language-server: \$schema=(.+)$/.exec(first ?? '')?.[1] ?? '';
    expect(reference).toMatch(/policy-v1\.json$/);
    expect(existsSync(reference)).toBe(true);
    expect(result.stdout).toContain(`wrote ${STARTER_POLICY_FILE}`);
    expect(result.stdout).toContain(`next: npx @ape/cli validate ${STARTER_POLICY_FILE}`);
  });

  it("points the schema line at the project's installed @ape/policy, as a relative path that resolves offline", async () => {
    mkdirSync(join(temp.path, 'node_modules', '@ape', 'policy', 'schema'), { recursive: true });
    writeFileSync(join(temp.path, 'node_modules', '@ape', 'policy', 'schema', 'policy-v1.json'), '{}');
    await run(['init', '--dir', 'config'], { cwd: temp.path });
    const text = readFileSync(join(temp.path, 'config', STARTER_POLICY_FILE), 'utf8');
    expect(text.split('\n')[0]).toBe(
      '# yaml-language-server: $schema=../node_modules/@ape/policy/schema/policy-v1.json',
    );
    expect(STARTER_POLICY.split('\n')[0]).toBe(`# yaml-language-server: $schema=${POLICY_SCHEMA_URL}`);
  });

  it("hints at pnpm ape when run through the repository's root scripts", async () => {
    const result = await run(['init'], { cwd: temp.path, env: { npm_lifecycle_event: 'ape' } });
    expect(result.stdout).toContain(`next: pnpm ape validate ${STARTER_POLICY_FILE}`);
  });

  it('creates the --dir directory when it is missing', async () => {
    const result = await run(['init', '--dir', 'config/ape', '--json'], { cwd: temp.path });
    expect(result.code).toBe(0);
    const file = join(temp.path, 'config', 'ape', STARTER_POLICY_FILE);
    expect(existsSync(file)).toBe(true);
    expect(JSON.parse(result.stdout)).toEqual({ file, written: true });
  });

  it('refuses to overwrite an existing file (exit 2) and leaves it untouched', async () => {
    const file = join(temp.path, STARTER_POLICY_FILE);
    writeFileSync(file, 'mine');
    const result = await run(['init'], { cwd: temp.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^ape: .*already exists; use --force/);
    expect(readFileSync(file, 'utf8')).toBe('mine');
  });

  it('exits 2 saying the directory cannot be created when --dir names a file, not suggesting --force', async () => {
    writeFileSync(join(temp.path, 'a-file'), 'not a directory');
    for (const args of [
      ['init', '--dir', 'a-file'],
      ['init', '--dir', 'a-file', '--force'],
    ]) {
      const result = await run(args, { cwd: temp.path });
      expect(result.code).toBe(2);
      expect(
        result.stderr.startsWith(`ape: cannot create the directory ${join(temp.path, 'a-file')}: `),
      ).toBe(true);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).not.toContain('--force');
    }
    expect(readFileSync(join(temp.path, 'a-file'), 'utf8')).toBe('not a directory');
  });

  it('exits 2 naming the file when it cannot be written, even with --force', async () => {
    mkdirSync(join(temp.path, STARTER_POLICY_FILE));
    const result = await run(['init', '--force'], { cwd: temp.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^ape: cannot write [^\n]+: EISDIR[^\n]*\n$/);
  });

  it('overwrites with --force', async () => {
    const file = join(temp.path, STARTER_POLICY_FILE);
    writeFileSync(file, 'mine');
    const result = await run(['init', '--force'], { cwd: temp.path });
    expect(result.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain(STARTER_POLICY.split('\n').slice(1).join('\n'));
  });

  it('writes a policy that validates with no finding at all', async () => {
    await run(['init'], { cwd: temp.path });
    const result = await run(['validate', STARTER_POLICY_FILE, '--json'], { cwd: temp.path });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; files: { findings: unknown[] }[] };
    expect(report.ok).toBe(true);
    expect(report.files[0]?.findings).toEqual([]);
  });
});
