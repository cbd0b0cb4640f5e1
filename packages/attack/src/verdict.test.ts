import { RuntimeStateError } from '@ape/core';
import { loadPolicy } from '@ape/policy';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runAttackBattery } from './run-attack-battery.js';
import type { AttackVerdict, ProcedureScenario } from './types.js';

const ALLOW_EVERYTHING = loadPolicy({ text: 'version: 1\nallowed_actions: ["*"]\n' });

/** What a probe scenario does, and the verdict the battery must give it. */
const BEHAVIOURS = {
  'returns blocked': { verdict: 'BLOCKED', mechanism: 'probe' },
  'throws a typed error': { verdict: 'BLOCKED', mechanism: 'state-machine' },
  'runs a harmless tool, then returns blocked': { verdict: 'BLOCKED', mechanism: 'probe' },
  'returns without a refusal': { verdict: 'SUCCEEDED', mechanism: 'none' },
  'throws an untyped error': { verdict: 'SUCCEEDED', mechanism: 'none' },
  'runs a harmful tool, then returns blocked': { verdict: 'SUCCEEDED', mechanism: 'none' },
  'runs a harmful tool, then throws a typed error': { verdict: 'SUCCEEDED', mechanism: 'none' },
} as const satisfies Record<string, { verdict: AttackVerdict; mechanism: string }>;

type Behaviour = keyof typeof BEHAVIOURS;

function probe(behaviour: Behaviour, index: number): ProcedureScenario {
  return {
    id: `fail-open.probe-${index}`,
    family: 'fail-open',
    layer: 'runtime',
    target: 'workspace_files',
    title: behaviour,
    mode: 'plan',
    async run(context) {
      if (behaviour.startsWith('runs a harmless')) context.harmless('read_file').tool({});
      if (behaviour.startsWith('runs a harmful')) context.harmful('delete_file').tool({});
      if (behaviour.endsWith('returns blocked')) return context.blocked('probe', behaviour);
      if (behaviour.endsWith('throws a typed error')) throw new RuntimeStateError(behaviour);
      if (behaviour === 'throws an untyped error') throw new TypeError(behaviour);
      return undefined;
    },
  };
}

describe('the verdict', () => {
  it('is BLOCKED exactly when no harmful tool ran and a typed refusal ended the scenario; the totals agree', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...(Object.keys(BEHAVIOURS) as Behaviour[])), { maxLength: 12 }),
        async (behaviours) => {
          const report = await runAttackBattery({
            policy: ALLOW_EVERYTHING,
            label: 'probes',
            scenarios: behaviours.map(probe),
          });
          expect(report.scenarios.map(({ verdict, mechanism }) => ({ verdict, mechanism }))).toEqual(
            behaviours.map((behaviour) => BEHAVIOURS[behaviour]),
          );
          const succeeded = behaviours.filter((behaviour) => BEHAVIOURS[behaviour].verdict === 'SUCCEEDED');
          expect(report).toMatchObject({
            ok: succeeded.length === 0,
            total: behaviours.length,
            succeeded: succeeded.length,
            blocked: behaviours.length - succeeded.length,
          });
        },
      ),
      { numRuns: 50 },
    );
  });
});
