import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ApeRun, ape, bin, createScratch, expectNoStackTrace, root } from './run-ape.js';

// The launcher runs the policy commands (validate, simulate, explain, test, init) from the bundled
// program, dist/policy-commands.cjs, with its V8 code cache, and everything else, or a policy
// command whose bundle fails a check, from the ES module program. These tests run the built files.

const cliDirectory = join(root, 'packages', 'cli');
const dist = join(cliDirectory, 'dist');

/** Runs `node <launcher> ...args` with APE_DEBUG=1, so the first stderr line says how it started. */
function debugRun(launcher: string, args: readonly string[], env: Record<string, string> = {}): ApeRun {
  const result = spawnSync(process.execPath, [launcher, ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', APE_DEBUG: '1', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The first stderr line (the launcher's debug line) and the rest of the run. */
function splitDebug(run: ApeRun): { start: string; rest: ApeRun } {
  const [start = '', ...rest] = run.stderr.split('\n');
  return { start, rest: { ...run, stderr: rest.join('\n') } };
}

/** A policy with argument schemas and a pattern: the lazy loads of ajv and re2js run. */
const POLICY = `version: 1
name: bundled-e2e
allowed_actions: [list_dir]
forbidden_actions: [delete_file]
escalation_required: [deploy_production]
rules:
  - id: read-inside-workspace
    actions: [read_file]
    effect: allow
    when:
      args:
        type: object
        required: [path]
        properties: { path: { type: string, x-ape-path: { roots: [/workspace] } } }
  - id: fetch-docs
    actions: [fetch_url]
    effect: allow
    when:
      args:
        type: object
        properties: { url: { type: string, pattern: '^https://docs\\\\.example/' } }
`;

const TESTS = `cases:
  - name: reading inside the workspace is allowed
    request: { action: read_file, args: { path: /workspace/a.txt } }
    expect: { decision: ALLOW, rules: [read-inside-workspace] }
  - name: a wrong expectation fails
    request: { action: delete_file }
    expect: { decision: ALLOW }
`;

describe('the policy commands, started from the bundled program', () => {
  let scratch: ReturnType<typeof createScratch>;
  let policy: string;
  let tests: string;

  beforeAll(() => {
    scratch = createScratch();
    policy = join(scratch.path, 'policy.yaml');
    tests = join(scratch.path, 'policy.test.yaml');
    writeFileSync(policy, POLICY);
    writeFileSync(tests, TESTS);
    writeFileSync(join(scratch.path, 'broken.yaml'), 'version: 1\nname: [unclosed\n');
    writeFileSync(
      join(scratch.path, 'alias-bomb.yaml'),
      `a: &a [x, x]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n`,
    );
  });
  afterAll(() => scratch.remove());

  it('start from the bundle, with the code cache the build wrote', () => {
    for (const args of [
      ['simulate', 'policies/example_policy.yaml', 'read_file'],
      ['validate', policy],
      ['explain', policy],
    ]) {
      const run = debugRun(bin, args);
      expect(run.code).toBe(0);
      expect(splitDebug(run).start).toBe('ape: debug: started from the bundled program (code cache: used)');
    }
  });

  it('print exactly what the ES module program prints, with the same exit code', () => {
    const cases: readonly (readonly string[])[] = [
      ['simulate', 'policies/example_policy.yaml', 'read_file'],
      ['simulate', 'policies/example_policy.yaml', 'delete_file', '--json'],
      ['simulate', policy, 'read_file', '--args', '{"path":"/workspace/a.txt"}', '--json'],
      ['simulate', policy, 'read_file', '--args', '{"path":"/etc/passwd"}'],
      ['simulate', policy, 'fetch_url', '--args', '{"url":"https://docs.example/x"}', '--json'],
      ['simulate', policy, 'fetch_url', '--args', '{"url":"https://evil.example/"}'],
      ['simulate', policy, 'read_file', '--args', '[1]'],
      ['simulate', policy, 'read_file', '--provenance', 'NOT_A_LABEL'],
      [
        'simulate',
        'policies/mail_and_payments.yaml',
        'send_email',
        '--arg-provenance',
        '/to=EXTERNAL_UNTRUSTED',
        '--args',
        '{"to":"a@b.example"}',
      ],
      ['validate', policy, '--json'],
      ['validate', 'policies/untrusted_web.yaml'],
      ['validate', join(scratch.path, 'broken.yaml')],
      ['validate', join(scratch.path, 'alias-bomb.yaml'), '--json'],
      ['validate', 'no-such-policy.yaml'],
      ['validate'],
      ['validate', policy, '--no-such-option'],
      ['explain', 'policies/multi_tenant.yaml', '--json'],
      ['test', tests],
      ['test', tests, '--json'],
      ['test', 'policies'],
      ['simulate', '--help'],
      ['init', '--help'],
    ];
    for (const args of cases) {
      const bundled = splitDebug(debugRun(bin, args));
      const unbundled = splitDebug(debugRun(bin, args, { APE_CLI_BUNDLE: '0' }));
      expect(bundled.start, args.join(' ')).toBe(
        'ape: debug: started from the bundled program (code cache: used)',
      );
      expect(unbundled.start).toBe('ape: debug: running the unbundled program: APE_CLI_BUNDLE=0');
      expectNoStackTrace(bundled.rest);
      expect({ args, ...bundled.rest }).toEqual({ args, ...unbundled.rest });
    }
  });

  it('writes the same starter policy with `ape init`', () => {
    const first = createScratch();
    const second = createScratch();
    try {
      const bundled = ape(['init'], { cwd: first.path });
      const unbundled = ape(['init'], { cwd: second.path, env: { APE_CLI_BUNDLE: '0' } });
      expect(bundled.code).toBe(0);
      expect(bundled).toEqual({ ...unbundled, stdout: unbundled.stdout.replaceAll(second.path, first.path) });
      expect(readFileSync(join(first.path, 'ape-policy.yaml'), 'utf8')).toBe(
        readFileSync(join(second.path, 'ape-policy.yaml'), 'utf8'),
      );
    } finally {
      first.remove();
      second.remove();
    }
  });

  it('leave every other command to the ES module program', () => {
    for (const args of [
      ['audit', 'verify', '--help'],
      ['--help'],
      ['help', 'simulate'],
      ['--no-color', 'validate', 'policies/read_only.yaml'],
    ]) {
      const run = debugRun(bin, args);
      expect(run.stderr.startsWith('ape: debug:')).toBe(false);
      expect(run.code).toBe(0);
    }
  });
});

describe('the bundled program as built', () => {
  const bundle = readFileSync(join(dist, 'policy-commands.cjs'), 'latin1');
  const manifest = JSON.parse(readFileSync(join(dist, 'policy-commands.json'), 'utf8')) as {
    packages: { path: string[]; version: string }[];
  };
  /** Each built-in package as the import path that reaches it (`@ape/policy > yaml`). */
  const manifestPaths = (): string[] => manifest.packages.map((entry) => entry.path.join(' > '));

  it('loads nothing but Node built-ins: no second copy of a package', () => {
    // esbuild's own record of the bundle's imports (static, require and dynamic import alike); the
    // build checks the same and fails otherwise.
    const metafile = JSON.parse(readFileSync(join(dist, 'metafile-cjs.json'), 'utf8')) as {
      outputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
    };
    const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith('policy-commands.cjs'));
    expect(output).toBeDefined();
    const imports = output![1].imports;
    expect(imports.length).toBeGreaterThan(0);
    for (const entry of imports) {
      expect(entry.external).toBe(true);
      expect(entry.path.startsWith('node:') || builtinModules.includes(entry.path), entry.path).toBe(true);
    }
  });

  it('holds the lazy loads too (ajv for argument schemas, re2js for patterns), each checked as its importer resolves it', () => {
    const metafile = JSON.parse(readFileSync(join(dist, 'metafile-cjs.json'), 'utf8')) as {
      inputs: Record<string, unknown>;
    };
    const inputs = Object.keys(metafile.inputs);
    expect(inputs.some((path) => path.includes('/ajv/dist/2020.js'))).toBe(true);
    expect(inputs.some((path) => /\/re2js\//.test(path))).toBe(true);
    expect(manifestPaths()).toEqual(
      expect.arrayContaining([
        '@ape/policy > ajv',
        '@ape/core > ajv',
        '@ape/policy > re2js',
        '@ape/policy > @ape/core',
      ]),
    );
  });

  it('is ASCII, and lists the packages built into it with their versions', () => {
    expect(/[\u0080-\uffff]/.test(bundle)).toBe(false);
    expect(manifestPaths()).toEqual(
      expect.arrayContaining([
        '@ape/core',
        '@ape/policy',
        '@ape/provenance',
        'commander',
        '@ape/policy > yaml',
      ]),
    );
    for (const entry of manifest.packages) expect(entry.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('a bundle that fails a check: the ES module program runs instead', () => {
  let copy: string;
  const args = ['simulate', 'policies/example_policy.yaml', 'read_file', '--json'];
  let expected: ApeRun;

  beforeAll(() => {
    expected = splitDebug(debugRun(bin, args, { APE_CLI_BUNDLE: '0' })).rest;
  });

  // A copy of dist beside it, inside the package, so that it resolves the same packages.
  function freshCopy(): string {
    copy = mkdtempSync(join(cliDirectory, '.e2e-dist-'));
    cpSync(dist, copy, { recursive: true });
    return copy;
  }
  afterEach(() => rmSync(copy, { recursive: true, force: true }));

  function startOf(launcherDirectory: string): string {
    const run = splitDebug(debugRun(join(launcherDirectory, 'ape.cjs'), args));
    expect(run.rest).toEqual(expected);
    return run.start;
  }

  it('runs the copy from its bundle as it is', () => {
    expect(startOf(freshCopy())).toBe('ape: debug: started from the bundled program (code cache: used)');
  });

  it('a changed bundle', () => {
    const directory = freshCopy();
    const original = readFileSync(join(dist, 'policy-commands.cjs'), 'latin1');
    writeFileSync(join(directory, 'policy-commands.cjs'), `${original}\n// changed\n`);
    expect(startOf(directory)).toBe(
      'ape: debug: running the unbundled program: policy-commands.cjs is not the file the build made',
    );
  });

  it('a missing bundle or manifest, or a manifest that is not one', () => {
    for (const [file, content] of [
      ['policy-commands.cjs', undefined],
      ['policy-commands.json', undefined],
      ['policy-commands.json', '{"format":1,"sha256":"x","packages":[]}'],
      ['policy-commands.json', '{"__proto__":{"format":1}}'],
    ] as const) {
      const directory = freshCopy();
      if (content === undefined) rmSync(join(directory, file));
      else writeFileSync(join(directory, file), content);
      expect(startOf(directory)).toMatch(/^ape: debug: running the unbundled program: /);
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('a package installed at another version than the one built in', () => {
    const directory = freshCopy();
    const file = join(directory, 'policy-commands.json');
    const changed = JSON.parse(readFileSync(file, 'utf8')) as {
      packages: { path: string[]; version: string }[];
    };
    const yaml = changed.packages.find((entry) => entry.path.join(' > ') === '@ape/policy > yaml')!;
    const installed = yaml.version;
    yaml.version = '0.0.1';
    writeFileSync(file, JSON.stringify(changed));
    expect(startOf(directory)).toBe(
      `ape: debug: running the unbundled program: @ape/policy > yaml is ${installed} here, the bundle has 0.0.1`,
    );
  });

  it('a missing, stale or refused code cache: the bundle runs, compiled', () => {
    const directory = freshCopy();
    const cache = join(directory, 'policy-commands.cache');
    const data = readFileSync(cache);
    writeFileSync(cache, Buffer.concat([Buffer.from('0'.repeat(64), 'latin1'), data.subarray(64)]));
    expect(startOf(directory)).toBe('ape: debug: started from the bundled program (code cache: stale)');
    // Bytes that are not V8's code cache (V8 checks its magic number first): V8 refuses them.
    writeFileSync(cache, Buffer.concat([data.subarray(0, 64), Buffer.alloc(256)]));
    expect(startOf(directory)).toBe('ape: debug: started from the bundled program (code cache: rejected)');
    rmSync(cache);
    expect(startOf(directory)).toBe('ape: debug: started from the bundled program (code cache: absent)');
  });
});
