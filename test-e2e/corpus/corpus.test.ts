import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryAuditSink } from '@ape/audit';
import { AuthorityManager } from '@ape/authority';
import { ApeError, createIntent, createPlan, createRuntime } from '@ape/core';
import { loadPolicy, validatePolicy } from '@ape/policy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ape, createScratch, expectNoStackTrace, expectOneLineError } from '../cli/run-ape.js';
import { AUDIT_EXPECTATIONS, INTENT_FILES, PLAN_FILES, POLICY_EXPECTATIONS } from './expectations.js';
import { GENERATED_POLICIES, writeGeneratedPolicies } from './generate.js';

/**
 * The hostile corpus: every file is refused with its expected code and a short message naming the
 * problem, by the library and by the built `ape` binary (a subprocess; its timeout is the hang
 * guard, no timing is asserted), never with a stack trace.
 */
const CORPUS = import.meta.dirname;
let scratch: ReturnType<typeof createScratch>;

function policyPath(name: string): string {
  return name in GENERATED_POLICIES ? join(scratch.path, name) : join(CORPUS, 'policies', name);
}

async function writeAuditCorpus(directory: string): Promise<void> {
  const audit = new MemoryAuditSink();
  const clock = { now: () => 1_767_225_600_000 };
  const runtime = createRuntime({
    tenant: 'acme',
    policy: loadPolicy(join(CORPUS, '..', '..', 'policies', 'workspace_files.yaml')),
    authority: new AuthorityManager({ tenant: 'acme', clock }),
    audit,
    clock,
  });
  await runtime.setIntent({ allowed_actions: ['read_file'], forbidden_actions: [], scope: 'corpus' }, { provenance: 'USER_TRUSTED' });
  await runtime.submitPlan({ steps: [{ action_id: 'read_file' }, { action_id: 'read_file' }] }, { provenance: 'USER_TRUSTED' });
  await runtime.executeStep(0, () => 'text', { args: { path: '/workspace/a' }, provenance: 'USER_TRUSTED' });
  await runtime.terminate();
  const lines = audit.lines();
  expect(lines.length).toBeGreaterThan(8);
  const write = (name: string, content: readonly string[] | Buffer): void => {
    writeFileSync(join(directory, name), Buffer.isBuffer(content) ? content : `${content.join('\n')}\n`);
  };
  const edited = [...lines];
  edited[3] = (edited[3] ?? '').replace('"acme"', '"evil"');
  write('edited.jsonl', edited);
  write('dropped.jsonl', lines.filter((_, index) => index !== 4));
  write('reordered.jsonl', [lines[0]!, lines[2]!, lines[1]!, ...lines.slice(3)]);
  write('duplicated.jsonl', [...lines.slice(0, 4), lines[3]!, ...lines.slice(4)]);
  write('bad-genesis.jsonl', lines.slice(1));
  write('malformed.jsonl', [...lines.slice(0, 3), '{"seq": 4, "oops"', ...lines.slice(3)]);
  write('prototype-key.jsonl', [...lines.slice(0, 3), '{"__proto__": {"polluted": true}}', ...lines.slice(3)]);
  write(
    'invalid-utf8.jsonl',
    Buffer.concat([Buffer.from(`${lines.slice(0, 3).join('\n')}\n`), Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from(`${lines.slice(3).join('\n')}\n`)]),
  );
  write('huge-line.jsonl', [...lines.slice(0, 3), `{"x": "${'A'.repeat(2 * 1024 * 1024)}"}`, ...lines.slice(3)]);
}

beforeAll(async () => {
  scratch = createScratch();
  writeGeneratedPolicies(scratch.path);
  await writeAuditCorpus(scratch.path);
});
afterAll(() => scratch.remove());

describe('hostile policies', () => {
  it.each(Object.entries(POLICY_EXPECTATIONS))('%s is refused with %o', (name, expected) => {
    const result = validatePolicy(policyPath(name));
    expect(result.ok).toBe(false);
    const finding = result.findings.find((candidate) => candidate.code === expected.code);
    expect(finding, JSON.stringify(result.findings)).toBeDefined();
  });

  it('ape validate refuses every file in one run: exit 1, a short line naming each problem, no stack trace', () => {
    const names = Object.keys(POLICY_EXPECTATIONS);
    const result = ape(['validate', ...names.map(policyPath)]);
    expect(result.code).toBe(1);
    expectNoStackTrace(result);
    expect(result.stderr).toBe('');
    const lines = result.stdout.split('\n');
    for (const [name, expected] of Object.entries(POLICY_EXPECTATIONS)) {
      const first = lines.find((line) => line.startsWith(policyPath(name)) && line.includes(': error '));
      expect(first, name).toBeDefined();
      expect(first).toContain(`error ${expected.code} `);
      expect(first).toContain(expected.mentions);
      expect((first ?? '').length).toBeLessThan(policyPath(name).length + 300);
      expect(lines.some((line) => line.startsWith(`invalid ${policyPath(name)}: `))).toBe(true);
    }
  });

  it('survives every hostile policy 5 times in a row in one process', () => {
    for (let round = 0; round < 5; round++) {
      for (const [name, expected] of Object.entries(POLICY_EXPECTATIONS)) {
        const result = validatePolicy(policyPath(name));
        expect(result.findings.some((finding) => finding.code === expected.code)).toBe(true);
      }
    }
  });

  it('reads YAML 1.1 boolean words as strings (YAML 1.2 core schema)', () => {
    const policy = loadPolicy(join(CORPUS, 'yaml11-words-are-strings.yaml'));
    const decision = policy.evaluate({ tenant: 't', action: 'on', args: {}, provenance: 'USER_TRUSTED' });
    expect(decision.rules).toEqual(['forbidden_actions[0]']);
    expect(ape(['validate', join(CORPUS, 'yaml11-words-are-strings.yaml')]).code).toBe(0);
  });

  it('accepts a byte order mark and CRLF line ends, with the same digest as the plain file', () => {
    const withBom = loadPolicy(join(CORPUS, 'bom-crlf.yaml'));
    expect(withBom.digest).toBe(loadPolicy(join(CORPUS, 'bom-crlf-reference.yaml')).digest);
    expect(ape(['validate', join(CORPUS, 'bom-crlf.yaml')]).code).toBe(0);
  });
});

describe('hostile intents and plans', () => {
  it.each(INTENT_FILES)('intent %s: createIntent throws INTENT_INVALID; ape simulate --intent exits 2 in one line', (name) => {
    const file = join(CORPUS, 'intents', name);
    let thrown: unknown;
    try {
      createIntent(JSON.parse(readFileSync(file, 'utf8')));
    } catch (error) {
      thrown = error;
    }
    expect(ApeError.isInstance(thrown) && thrown.code).toBe('INTENT_INVALID');
    const result = ape(['simulate', join(CORPUS, '..', '..', 'policies', 'example_policy.yaml'), 'read_file', '--intent', file]);
    expectOneLineError(result, 2);
    expect(result.stderr).toContain('intent');
  });

  it.each(PLAN_FILES)('plan %s: createPlan throws PLAN_INVALID', (name) => {
    let thrown: unknown;
    try {
      createPlan(JSON.parse(readFileSync(join(CORPUS, 'plans', name), 'utf8')));
    } catch (error) {
      thrown = error;
    }
    expect(ApeError.isInstance(thrown) && thrown.code).toBe('PLAN_INVALID');
  });
});

describe('hostile audit logs', () => {
  it.each(Object.entries(AUDIT_EXPECTATIONS))('ape audit verify %s exits 1 reporting %s', (name, problem) => {
    const result = ape(['audit', 'verify', join(scratch.path, name)]);
    expect(result.code).toBe(1);
    expectNoStackTrace(result);
    expect(`${result.stdout}${result.stderr}`).toContain(problem);
    expect(`${result.stdout}${result.stderr}`.length).toBeLessThan(1000);
  });
});
