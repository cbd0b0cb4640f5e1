import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPolicy } from '@ape/policy';
import { describe, expect, it } from 'vitest';
import { loadShippedPolicy } from './battery.js';
import { SHIPPED_POLICY_NAMES, SHIPPED_POLICY_TEXTS } from './shipped-policies.js';

const POLICIES = join(import.meta.dirname, '..', '..', '..', '..', 'policies');

describe('the policies ape attack reads from @ape/reference-agent', () => {
  it('are byte for byte the files in policies/', () => {
    for (const name of SHIPPED_POLICY_NAMES) {
      expect(SHIPPED_POLICY_TEXTS[name], name).toBe(readFileSync(join(POLICIES, `${name}.yaml`), 'utf8'));
    }
  });

  it('compile to the digest of their files', () => {
    for (const name of SHIPPED_POLICY_NAMES) {
      expect(loadShippedPolicy(name).digest, name).toBe(loadPolicy(join(POLICIES, `${name}.yaml`)).digest);
    }
  });
});
