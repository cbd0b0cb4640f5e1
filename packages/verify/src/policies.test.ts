import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyPolicy } from './checks.js';
import { loadVerifiablePolicy } from './load.js';

const policies = join(import.meta.dirname, '..', '..', '..', 'policies');

describe('the shipped policies', () => {
  for (const file of readdirSync(policies)
    .filter((name) => name.endsWith('.yaml') && !name.endsWith('.test.yaml'))
    .sort()) {
    it(`${file} satisfies the token invariant, never widens in a tenant and has no dead rule`, async () => {
      const report = await verifyPolicy(loadVerifiablePolicy(join(policies, file)), { maxSamples: 6 });
      const notPassed = report.checks.filter((check) => check.status !== 'pass');
      expect(notPassed).toEqual([]);
      expect(report.ok).toBe(true);
    });
  }
});
