import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAssertions } from './assertions.js';
import { EXPORT_FORMATS, exportModel, exportSmtLib, smtQueries } from './exports.js';
import { loadVerifiablePolicy } from './load.js';
import { exportPolicyModel } from './model.js';
import { runSmtScript } from './solver.js';

const policies = join(import.meta.dirname, '..', '..', '..', 'policies');
const golden = join(import.meta.dirname, '__fixtures__', 'golden');
const files = readdirSync(policies)
  .filter((file) => file.endsWith('.yaml') && !file.endsWith('.test.yaml'))
  .sort();

function modelOf(file: string) {
  return exportPolicyModel(loadVerifiablePolicy(join(policies, file)));
}

/** The answers Z3 printed after each `(echo "<name>: expect <answer>")`. */
function answers(output: string): { name: string; expect: string; got: string }[] {
  const lines = output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const found: { name: string; expect: string; got: string }[] = [];
  lines.forEach((line, index) => {
    const match = /^(.+): expect (sat|unsat)$/.exec(line);
    if (match !== null) found.push({ name: match[1]!, expect: match[2]!, got: lines[index + 1] ?? '' });
  });
  return found;
}

describe('SMT-LIB 2 export', () => {
  for (const file of files) {
    it(`of ${file} is accepted by Z3 and every query gives its expected answer`, async () => {
      const model = modelOf(file);
      const output = await runSmtScript(exportSmtLib(model).content);
      expect(output).not.toMatch(/\(error/);
      const got = answers(output);
      expect(got.map((entry) => entry.name)).toEqual(smtQueries(model).map((query) => query.name));
      for (const entry of got) expect(entry.got, entry.name).toBe(entry.expect);
    });
  }

  it('turns assertions into queries whose unexpected answer is the failure', async () => {
    const model = modelOf('human_in_loop.yaml');
    const assertions = parseAssertions({ always_deny: ['deploy_production'], must_escalate: ['send_email'] });
    const got = answers(await runSmtScript(exportSmtLib(model, assertions).content));
    expect(got.find((entry) => entry.name === 'assert.always_deny[0]')).toMatchObject({
      expect: 'unsat',
      got: 'sat',
    });
    expect(got.find((entry) => entry.name === 'assert.must_escalate[0]')).toMatchObject({
      expect: 'unsat',
      got: 'unsat',
    });
  });
});

describe('TLA+ and Alloy exports match their golden files', () => {
  for (const file of ['multi_tenant.yaml', 'untrusted_web.yaml']) {
    it(`for ${file}`, () => {
      const model = modelOf(file);
      for (const format of ['tla', 'alloy'] as const) {
        for (const exported of exportModel(model, format)) {
          expect(exported.content, exported.name).toBe(readFileSync(join(golden, exported.name), 'utf8'));
        }
      }
    });
  }

  it('extend the hand-written runtime spec and bind every one of its constants', () => {
    const spec = readFileSync(
      join(import.meta.dirname, '..', '..', '..', 'docs', 'spec', 'ApeRuntime.tla'),
      'utf8',
    );
    const [tla, cfg] = exportModel(modelOf('multi_tenant.yaml'), 'tla');
    expect(tla?.content).toContain('EXTENDS ApeRuntime');
    for (const constant of ['Tenants', 'Actions', 'Provenances', 'AllowSet', 'EscalateSet', 'Possible']) {
      expect(spec).toMatch(new RegExp(`^\\s+${constant}\\b`, 'm'));
      expect(cfg?.content).toMatch(new RegExp(`^\\s+${constant} <- Policy`, 'm'));
    }
    for (const invariant of [
      'TypeOK',
      'TokenInvariant',
      'NoTokenAfterTermination',
      'EscalationHasPendingCall',
    ]) {
      expect(spec).toMatch(new RegExp(`^${invariant} ==`, 'm'));
    }
  });
});

describe('exportModel', () => {
  it('writes the JSON model for json and one or more files for every format', () => {
    const model = modelOf('read_only.yaml');
    for (const format of EXPORT_FORMATS) expect(exportModel(model, format).length).toBeGreaterThan(0);
    expect(JSON.parse(exportModel(model, 'json')[0]!.content)).toEqual(JSON.parse(JSON.stringify(model)));
  });
});

/** Whether `dafny` runs. Dafny 2.3 prints its version but exits 1 for `/version`, so the text decides. */
function hasDafny(): boolean {
  const result = spawnSync('dafny', ['/version'], { encoding: 'utf8', timeout: 60_000 });
  return result.error === undefined && /^Dafny \d/m.test(result.stdout ?? '');
}

describe('Dafny export', () => {
  it('verifies for every policy with the installed dafny (Debian package `dafny`; missing is a failure)', () => {
    // No fallback: without the verifier this check would prove nothing, so it fails instead.
    expect(hasDafny(), 'dafny is not on PATH: install it (apt-get install dafny) to run this check').toBe(
      true,
    );
    const directory = mkdtempSync(join(tmpdir(), 'ape-dafny-'));
    try {
      for (const file of files) {
        const exported = exportModel(modelOf(file), 'dafny')[0]!;
        const path = join(directory, exported.name);
        writeFileSync(path, exported.content);
        let output: string;
        try {
          output = execFileSync('dafny', ['/compile:0', path], { encoding: 'utf8', timeout: 120_000 });
        } catch (error) {
          output = String((error as { stdout?: unknown }).stdout ?? error);
        }
        expect(output, file).toMatch(/finished with \d+ verified, 0 errors/);
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
    // One dafny run per shipped policy (mono start-up and Z3): minutes on a loaded machine.
  }, 900_000);
});
