import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installPacked, type PackedProject, repositoryRoot } from '../packed-install.js';

/**
 * Publishability, tested rather than assumed: every package with an `exports` map is packed with
 * `pnpm pack` (which rewrites `workspace:` ranges as publishing does), the tarballs are installed with
 * npm into a scratch project outside the workspace, and each package is imported from ESM and CJS.
 */
const root = repositoryRoot;

interface Manifest {
  name: string;
  private?: boolean;
  exports?: Record<string, unknown>;
}

const packages = readdirSync(join(root, 'packages'))
  .map((dir) => ({
    dir: join(root, 'packages', dir),
    manifest: readJson(join(root, 'packages', dir, 'package.json')),
  }))
  .filter(({ manifest }) => manifest.exports !== undefined && manifest.private !== true);

function readJson(path: string): Manifest {
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}

let installed: PackedProject | undefined;
let project: string;

beforeAll(() => {
  // vitest is the optional peer that the contract suites of @ape/core/contracts need.
  installed = installPacked(
    'scratch',
    packages.map(({ dir }) => dir),
    { vitest: '4.1.12' },
  );
  project = installed.project;
}, 300_000);

afterAll(() => installed?.remove());

describe('published packages', () => {
  it('finds the packages to check', () => {
    expect(packages.map((entry) => entry.manifest.name)).toContain('@ape/core');
  });

  it.each(packages.map((entry) => entry.manifest.name))(
    '%s installs from its tarball and imports from ESM and CJS',
    (name) => {
      const esm = execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(name)}); console.log(JSON.stringify(Object.keys(m).sort()));`,
        ],
        { cwd: project, encoding: 'utf8' },
      );
      const cjs = execFileSync(
        process.execPath,
        [
          '-e',
          `const m = require(${JSON.stringify(name)}); console.log(JSON.stringify(Object.keys(m).sort()));`,
        ],
        { cwd: project, encoding: 'utf8' },
      );
      const esmNames = JSON.parse(esm) as string[];
      const cjsNames = (JSON.parse(cjs) as string[]).filter(
        (key) => key !== 'default' && key !== '__esModule',
      );
      expect(esmNames.length).toBeGreaterThan(0);
      expect(esmNames.filter((key) => key !== 'default')).toEqual(cjsNames);
    },
  );

  it('ships the core JSON Schemas as files', () => {
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        `console.log(require('@ape/core/schemas/intent.json').$id, require('@ape/core/schemas/plan.json').$id, require('@ape/core/schemas/action.json').$id)`,
      ],
      { cwd: project, encoding: 'utf8' },
    );
    expect(out.trim()).toBe('urn:ape:schema:intent:v1 urn:ape:schema:plan:v1 urn:ape:schema:action:v1');
  });

  it('loads the fakes of @ape/core/testing as ESM and CommonJS, without a test runner', () => {
    const esm = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import('@ape/core/testing'); console.log(typeof m.FakeClock, typeof m.runAuditSinkContract);`,
      ],
      { cwd: project, encoding: 'utf8' },
    );
    expect(esm.trim()).toBe('function undefined');
    const cjs = execFileSync(
      process.execPath,
      [
        '-e',
        `const m = require('@ape/core/testing'); console.log(typeof m.FakeClock, typeof m.createStubPolicy);`,
      ],
      { cwd: project, encoding: 'utf8' },
    );
    expect(cjs.trim()).toBe('function function');
  });

  it('loads the contract suites of @ape/core/contracts as ESM (they import vitest, which cannot be required)', () => {
    const esm = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import('@ape/core/contracts'); console.log(typeof m.runAuditSinkContract, typeof m.runUsageStoreContract, typeof m.runApprovalQueueContract, typeof m.runRevocationFeedContract);`,
      ],
      { cwd: project, encoding: 'utf8' },
    );
    expect(esm.trim()).toBe('function function function function');
  });

  it("loads the adapters' shared part, @ape/core/adapter, as ESM and CommonJS", () => {
    const esm = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import('@ape/core/adapter'); console.log(typeof m.resolveAdapterOptions, typeof m.TaintTracker, m.DEFAULT_DATAFLOW_MIN_LENGTH);`,
      ],
      { cwd: project, encoding: 'utf8' },
    );
    expect(esm.trim()).toBe('function function 12');
    const cjs = execFileSync(
      process.execPath,
      [
        '-e',
        `const m = require('@ape/core/adapter'); console.log(typeof m.startAdapterSession, typeof m.refusalOf);`,
      ],
      { cwd: project, encoding: 'utf8' },
    );
    expect(cjs.trim()).toBe('function function');
  });

  it('ships the example policies in @ape/reference-agent, and @ape/attack runs scenarios against them', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        [
          "const { readdirSync, readFileSync } = await import('node:fs');",
          "const { join } = await import('node:path');",
          "const { shippedPoliciesDirectory } = await import('@ape/reference-agent');",
          "const { ATTACK_SCENARIOS, runAttackBattery } = await import('@ape/attack');",
          'const directory = shippedPoliciesDirectory();',
          "const files = Object.fromEntries(readdirSync(directory).sort().map((file) => [file, readFileSync(join(directory, file), 'utf8')]));",
          'const report = await runAttackBattery({ policyDirectory: directory, scenarios: ATTACK_SCENARIOS.slice(0, 3) });',
          'console.log(JSON.stringify({ directory, files, ok: report.ok, total: report.total }));',
        ].join('\n'),
      ],
      { cwd: project, encoding: 'utf8' },
    );
    const shipped = JSON.parse(out) as {
      directory: string;
      files: Record<string, string>;
      ok: boolean;
      total: number;
    };
    expect(shipped.directory).toContain(join('node_modules', '@ape', 'reference-agent', 'demo-policies'));
    const policies = readdirSync(join(root, 'policies'))
      .filter((file) => file.endsWith('.yaml'))
      .sort();
    expect(Object.keys(shipped.files)).toEqual(policies);
    for (const file of policies) {
      expect(shipped.files[file], file).toBe(readFileSync(join(root, 'policies', file), 'utf8'));
    }
    expect(shipped).toMatchObject({ ok: true, total: 3 });
  });

  it('installs the ape command: the launcher answers --version and runs a command through the program', () => {
    const ape = join(project, 'node_modules', '.bin', 'ape');
    const cliVersion = readJsonVersion(join(root, 'packages', 'cli', 'package.json'));
    expect(execFileSync(ape, ['--version'], { cwd: project, encoding: 'utf8' })).toBe(`${cliVersion}\n`);
    const policy = join(root, 'policies', 'example_policy.yaml');
    const simulated = JSON.parse(
      execFileSync(ape, ['simulate', policy, 'read_file', '--json'], { cwd: project, encoding: 'utf8' }),
    ) as { decision: string };
    expect(simulated.decision).toBe('ALLOW');
  });

  it('installs the bundled policy commands: they start from the bundle with its code cache, and answer as the ES module program does', () => {
    const ape = join(project, 'node_modules', '.bin', 'ape');
    const env = { ...process.env, APE_DEBUG: '1' };
    // mail_and_payments has argument schemas: ajv, built into the bundle, loads on first use.
    const policy = join(root, 'policies', 'mail_and_payments.yaml');
    const args = ['simulate', policy, 'send_email', '--args', '{"to":"a@b.example"}', '--json'];
    const run = spawnSync(ape, args, { cwd: project, env, encoding: 'utf8' });
    expect(run.stderr).toBe('ape: debug: started from the bundled program (code cache: used)\n');
    expect(run.status).toBe(0);
    const unbundled = spawnSync(ape, args, {
      cwd: project,
      env: { ...env, APE_CLI_BUNDLE: '0' },
      encoding: 'utf8',
    });
    expect(unbundled.stdout).toBe(run.stdout);
    const dist = join(project, 'node_modules', '@ape', 'cli', 'dist');
    expect(existsSync(join(dist, 'policy-commands.cache'))).toBe(true);
    expect(existsSync(join(dist, 'metafile-cjs.json'))).toBe(false);
  });
});

function readJsonVersion(path: string): string {
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}
