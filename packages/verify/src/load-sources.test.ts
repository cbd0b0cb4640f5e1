import { describe, expect, it } from 'vitest';
import { loadVerifiablePolicy, verifiablePolicyFromDocument } from './load.js';

const VALID_YAML = 'version: 1\nname: from-text\nallowed_actions: [read_file]\n';

function failure(action: () => unknown): { code: string; message: string; details: Record<string, unknown> } {
  try {
    action();
  } catch (error) {
    return error as { code: string; message: string; details: Record<string, unknown> };
  }
  throw new Error('expected a PolicyError');
}

describe('loadVerifiablePolicy from { text, format, filename }', () => {
  it('loads YAML text and names the file it was given', () => {
    const loaded = loadVerifiablePolicy({ text: VALID_YAML, filename: 'inline.yaml' });
    expect(loaded.definition.name).toBe('from-text');
    expect(loaded.file).toBe('inline.yaml');
    expect(Object.isFrozen(loaded)).toBe(true);
  });

  it('loads JSON text with format "json" and takes the file name from the options', () => {
    const loaded = loadVerifiablePolicy(
      { text: '{"version": 1, "name": "json-text", "allowed_actions": ["read_file"]}', format: 'json' },
      { filename: 'from-options.json' },
    );
    expect(loaded.definition.name).toBe('json-text');
    expect(loaded.file).toBe('from-options.json');
  });

  it('has no file when the text came without a name', () => {
    const loaded = loadVerifiablePolicy({ text: VALID_YAML });
    expect(Object.hasOwn(loaded, 'file')).toBe(false);
    expect(loaded.policy.definition).toBe(loaded.definition);
  });

  it('refuses invalid text with POLICY_INVALID naming the file and the line of the first error', () => {
    const error = failure(() =>
      loadVerifiablePolicy({
        text: 'version: 1\nallowed_actions: [read]\nunknown_key: true\n',
        filename: 'bad-inline.yaml',
      }),
    );
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.message).toMatch(/^bad-inline\.yaml: line 3: /);
    expect(error.details['file']).toBe('bad-inline.yaml');
    expect(Array.isArray(error.details['findings'])).toBe(true);
  });

  it('says "the policy" when invalid text has no file name, and counts the further errors', () => {
    const error = failure(() =>
      loadVerifiablePolicy({ text: 'version: 1\nunknown_one: 1\nunknown_two: 2\nallowed_actions: [a]\n' }),
    );
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.message).toMatch(/^the policy: /);
    const errors = (error.details['findings'] as { severity: string }[]).filter(
      (finding) => finding.severity === 'error',
    );
    expect(errors.length).toBeGreaterThan(1);
    expect(error.message).toContain(`(and ${errors.length - 1} more)`);
    expect(Object.hasOwn(error.details, 'file')).toBe(false);
  });

  it('refuses text that is not YAML with POLICY_INVALID', () => {
    const error = failure(() => loadVerifiablePolicy({ text: 'version: [1\n', filename: 'broken.yaml' }));
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.message).toMatch(/^broken\.yaml: /);
  });

  it('refuses a source that is not { text } with POLICY_INVALID', () => {
    const error = failure(() => loadVerifiablePolicy({ text: 42 } as unknown as { text: string }));
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.message).toMatch(/^the policy: /);
  });
});

describe('verifiablePolicyFromDocument', () => {
  it('names the file given in the options', () => {
    const loaded = verifiablePolicyFromDocument(
      { version: 1, name: 'doc', allowed_actions: ['read_file'] },
      { filename: 'doc.yaml' },
    );
    expect(loaded.file).toBe('doc.yaml');
    expect(loaded.definition.name).toBe('doc');
  });

  it('refuses an invalid document with POLICY_INVALID', () => {
    const error = failure(() => verifiablePolicyFromDocument({ version: 1, nonsense: true }));
    expect(error.code).toBe('POLICY_INVALID');
  });
});
