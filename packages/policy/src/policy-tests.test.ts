import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPolicy } from './load.js';
import { POLICY_TEST_SESSION_ID, readPolicyTests, runPolicyTests } from './policy-tests.js';

const POLICY = `version: 1
allowed_actions: [list_dir]
forbidden_actions: [delete_file]
rules:
  - id: untrusted-mail
    actions: [send_email]
    effect: escalate
    when: { provenance: [EXTERNAL_UNTRUSTED] }
  - id: mail
    actions: [send_email]
    effect: allow
limits:
  - { id: lists, actions: [list_dir], max_calls: 2 }
tool_transitions:
  list_dir: [list_dir]
`;

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'ape-policy-tests-'));
  writeFileSync(join(directory, 'mail.yaml'), POLICY);
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = join(directory, name);
  writeFileSync(file, text);
  return file;
}

describe('readPolicyTests', () => {
  it('reads test text with no file: policy: resolves against the working directory, and without it the file is refused', () => {
    const cases =
      'cases:\n  - name: lists\n    request: { action: list_dir }\n    expect: { decision: ALLOW }\n';
    const named = readPolicyTests({ text: `policy: policies/mail.yaml\n${cases}` });
    expect(named.ok).toBe(true);
    if (named.ok) {
      expect(named.value.policy).toBe(join(process.cwd(), 'policies', 'mail.yaml'));
      expect(named.value.file).toBeUndefined();
    }
    const unnamed = readPolicyTests({ text: cases });
    expect(unnamed.ok).toBe(false);
    if (!unnamed.ok) {
      expect(unnamed.findings).toEqual([
        expect.objectContaining({
          code: 'SCHEMA',
          path: '$',
          message: expect.stringContaining('does not say which policy'),
        }),
      ]);
      expect(unnamed.findings[0]?.file).toBeUndefined();
    }
  });

  it('reports schema errors of a test file without a file name, ordered by line', () => {
    const read = readPolicyTests({
      text: 'policy: x.yaml\ncases:\n  - name: 3\n    request: { action: list_dir }\n    expect: { decision: MAYBE }\n',
    });
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.findings.map((finding) => finding.code)).toEqual(['SCHEMA', 'SCHEMA']);
    expect(read.findings.map((finding) => finding.line)).toEqual([3, 5]);
    expect(read.findings.every((finding) => finding.file === undefined)).toBe(true);
  });

  it('finds the sibling policy and applies the defaults of ape simulate', () => {
    const read = readPolicyTests(
      write(
        'mail.test.yaml',
        'cases:\n  - name: lists\n    request: { action: list_dir }\n    expect: { decision: ALLOW }\n',
      ),
    );
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.value.policy).toBe(join(directory, 'mail.yaml'));
    expect(read.value.cases[0]).toEqual({
      name: 'lists',
      request: { tenant: 'default', action: 'list_dir', args: {}, provenance: 'USER_TRUSTED' },
      expect: { decision: 'ALLOW' },
      line: 2,
    });
  });

  it('resolves policy: against the test file directory and carries session fields', () => {
    const read = readPolicyTests(
      write(
        'any-name.yaml',
        'policy: mail.yaml\ncases:\n  - name: third list\n    request: { action: list_dir, previous_action: list_dir, usage: { lists: 2 }, tenant: acme }\n    expect: { decision: DENY, rules: [lists] }\n',
      ),
    );
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.value.policy).toBe(join(directory, 'mail.yaml'));
    expect(read.value.cases[0]?.request.session).toEqual({
      id: POLICY_TEST_SESSION_ID,
      previousAction: 'list_dir',
      usage: { lists: 2 },
    });
    expect(read.value.cases[0]?.request.tenant).toBe('acme');
  });

  it('reports every schema problem with its line, and a hint for a misspelt key', () => {
    const read = readPolicyTests(
      write(
        'mail.test.yaml',
        'cases:\n  - name: one\n    request: { action: list_dir, provenanse: USER_TRUSTED }\n    expect: { decision: ALOW }\n',
      ),
    );
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.findings.map((finding) => [finding.code, finding.line, finding.message])).toEqual([
      ['UNKNOWN_KEY', 3, 'unknown key "provenanse"; did you mean "provenance"?'],
      ['SCHEMA', 4, 'must be one of "ALLOW", "DENY", "ESCALATE"; did you mean "ALLOW"?'],
    ]);
  });

  it('refuses a file that does not say which policy it tests', () => {
    const read = readPolicyTests(
      write(
        'cases.yaml',
        'cases:\n  - name: one\n    request: { action: a }\n    expect: { decision: DENY }\n',
      ),
    );
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.findings[0]?.code).toBe('SCHEMA');
    expect(read.findings[0]?.message).toContain('does not say which policy it tests');
  });

  it('goes through the hardened reader: duplicate keys and unreadable files are findings', () => {
    const duplicate = readPolicyTests(write('mail.test.yaml', 'cases: []\ncases: []\n'));
    expect(duplicate.ok).toBe(false);
    if (!duplicate.ok) expect(duplicate.findings[0]?.code).toBe('DUPLICATE_KEY');
    const missing = readPolicyTests(join(directory, 'missing.test.yaml'));
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.findings[0]?.code).toBe('FILE_UNREADABLE');
  });

  it('refuses an empty list of cases', () => {
    const read = readPolicyTests(write('mail.test.yaml', 'cases: []\n'));
    expect(read.ok).toBe(false);
    if (!read.ok)
      expect(read.findings[0]).toMatchObject({ code: 'SCHEMA', message: 'must not be empty', line: 1 });
  });
});

describe('runPolicyTests', () => {
  it('passes a case whose decision and rule ids match, in any order', () => {
    const policy = loadPolicy(join(directory, 'mail.yaml'));
    const read = readPolicyTests({
      text: `policy: ${join(directory, 'mail.yaml')}\ncases:
  - name: untrusted mail escalates
    request: { action: send_email, provenance: EXTERNAL_UNTRUSTED }
    expect: { decision: ESCALATE, rules: [untrusted-mail] }
  - name: delete is forbidden
    request: { action: delete_file }
    expect: { decision: DENY, rules: ['forbidden_actions[0]'] }
  - name: a third list is over the limit
    request: { action: list_dir, usage: { lists: 2 } }
    expect: { decision: DENY, rules: [lists] }
  - name: unknown actions are denied by default
    request: { action: format_disk }
    expect: { decision: DENY, rules: [default] }
`,
    });
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    const results = runPolicyTests(policy, read.value.cases);
    expect(results.map((result) => result.passed)).toEqual([true, true, true, true]);
  });

  it('fails a case whose decision or rule ids differ, and says what the policy answered', () => {
    const policy = loadPolicy(join(directory, 'mail.yaml'));
    const read = readPolicyTests({
      text: `policy: ${join(directory, 'mail.yaml')}\ncases:
  - name: wrong decision
    request: { action: send_email }
    expect: { decision: DENY }
  - name: wrong rules
    request: { action: send_email }
    expect: { decision: ALLOW, rules: [mail, untrusted-mail] }
`,
    });
    if (!read.ok) throw new Error('unexpected findings');
    const [decision, rules] = runPolicyTests(policy, read.value.cases);
    expect(decision).toMatchObject({ passed: false, actual: { decision: 'ALLOW', rules: ['mail'] } });
    expect(decision?.actual.reason).toContain('mail');
    expect(rules).toMatchObject({
      passed: false,
      expected: { decision: 'ALLOW', rules: ['mail', 'untrusted-mail'] },
    });
  });
});
