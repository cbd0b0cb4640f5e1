import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { shippedPoliciesDirectory } from '../shipped-policies.js';
import { DEMO_POLICY_FILES, loadDemoPolicies } from './policies.js';

const made: string[] = [];
afterEach(() => {
  for (const directory of made.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('loadDemoPolicies', () => {
  it('loads a policy outside the demo set on first use, once, from the same directory', () => {
    const policies = loadDemoPolicies(undefined);
    expect(policies.directory).toBe(shippedPoliciesDirectory());
    expect(DEMO_POLICY_FILES).not.toContain('read_only.yaml');
    const readOnly = policies.policy('read_only.yaml');
    expect(readOnly.name).toBe('read-only');
    expect(policies.policy('read_only.yaml')).toBe(readOnly);
  });

  it('refuses a directory that lacks a demo policy, naming the file', () => {
    const directory = mkdtempSync(join(tmpdir(), 'ape-demo-policies-'));
    made.push(directory);
    writeFileSync(join(directory, 'example_policy.yaml'), 'version: 1\nname: only_one\n');
    expect(() => loadDemoPolicies(directory)).toThrow(/human_in_loop\.yaml/);
  });
});
