import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicy } from '@ape/policy';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_POLICY_NAMES, loadExamplePolicies } from './example-policies.js';

const POLICIES_DIRECTORY = join(import.meta.dirname, '..', '..', '..', 'policies');

describe('loadExamplePolicies', () => {
  it('compiles every example policy of a directory to the digest of its file', () => {
    const policies = loadExamplePolicies(POLICIES_DIRECTORY);
    expect(Object.keys(policies).sort()).toEqual([...EXAMPLE_POLICY_NAMES].sort());
    for (const name of EXAMPLE_POLICY_NAMES) {
      expect(policies[name].digest, name).toBe(loadPolicy(join(POLICIES_DIRECTORY, `${name}.yaml`)).digest);
    }
  });

  it('refuses a directory missing one of them with POLICY_INVALID naming the file', () => {
    const directory = mkdtempSync(join(tmpdir(), 'ape-attack-policies-'));
    for (const name of EXAMPLE_POLICY_NAMES.filter((entry) => entry !== 'read_only')) {
      writeFileSync(join(directory, `${name}.yaml`), readFileSync(join(POLICIES_DIRECTORY, `${name}.yaml`)));
    }
    expect(() => loadExamplePolicies(directory)).toThrow(
      expect.objectContaining({ code: 'POLICY_INVALID', message: expect.stringContaining('read_only.yaml') }),
    );
  });
});
