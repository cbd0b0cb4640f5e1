import type { ActionRequest } from '@ape/core';
import { describe, expect, it } from 'vitest';
import { GOLDEN_CASES } from './__fixtures__/golden-cases.js';
import { GOLDEN_POLICIES } from './__fixtures__/golden-policies.js';
import { compilePolicy } from './index.js';
import type { CompiledPolicy } from './types.js';

const compiled = new Map<string, CompiledPolicy>(
  Object.entries(GOLDEN_POLICIES).map(([name, document]) => [
    name,
    compilePolicy(document, { defaultName: name }),
  ]),
);

function requestOf(partial: (typeof GOLDEN_CASES)[number]['request']): ActionRequest {
  return { tenant: 'default', args: {}, provenance: 'USER_TRUSTED', ...partial };
}

describe('golden decisions', () => {
  it('has at least 150 cases', () => {
    expect(GOLDEN_CASES.length).toBeGreaterThanOrEqual(150);
  });

  it.each(GOLDEN_CASES.map((golden, index) => [index, golden] as const))(
    'case %i decides as the table says',
    (_index, golden) => {
      const policy = compiled.get(golden.policy)!;
      const request = requestOf(golden.request);
      const decision = policy.evaluate(request);
      expect({ decision: decision.decision, rules: decision.rules }).toEqual({
        decision: golden.decision,
        rules: golden.rules,
      });
      expect(decision.reason).toContain(golden.reason);
      expect(decision.policy).toBe(policy.digest);
      expect(decision.code).toBe(golden.code);
      const simulated = policy.simulate(request);
      expect(simulated.decision).toBe(decision.decision);
      expect(simulated.rules).toEqual(decision.rules);
      expect(simulated.reason).toBe(decision.reason);
    },
  );
});
