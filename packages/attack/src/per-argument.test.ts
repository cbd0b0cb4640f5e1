import { loadPolicy } from '@ape/policy';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runScenario, singlePolicyEnvironment } from './battery.js';
import { createContext, createTrace } from './context.js';
import { ruleKindsOf } from './mechanism.js';
import { ATTACK_SCENARIOS } from './scenarios/index.js';
import { runSteps } from './steps.js';
import type { StepsScenario } from './types.js';

const policy = loadPolicy(
  fileURLToPath(new URL('../../../policies/mail_and_payments.yaml', import.meta.url)),
);
const IDS = ['prompt-injection.calls-per-argument-untrusted-recipient'];
const scenarios = IDS.map((id) => ATTACK_SCENARIOS.find((scenario) => scenario.id === id) as StepsScenario);
const kinds = () => ruleKindsOf(policy);

describe('attacks where only one argument is untrusted (the per-argument policy mail_and_payments)', () => {
  it.each(scenarios.map((scenario) => [scenario.id, scenario] as const))(
    '%s: the harmless call (untrusted body) runs, the harmful one (untrusted recipient) does not',
    async (_id, scenario) => {
      const trace = createTrace();
      const context = createContext(
        scenario,
        singlePolicyEnvironment(policy, 'mail_and_payments'),
        trace,
        kinds(),
      );
      const error = await runSteps(scenario, context).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toMatchObject({ code: 'ESCALATION_DENIED' });
      expect(trace.harmless.map((spy) => spy.calls.length)).toEqual([1]);
      expect(trace.harmful.map((spy) => spy.calls.length)).toEqual([0]);
      const decisions = trace.sinks
        .flatMap((sink) => sink.records())
        .filter((record) => record.type === 'decision.made')
        .map((record) => record.data['decision']);
      expect(decisions).toEqual(['ALLOW', 'ESCALATE']);
    },
  );

  it.each(scenarios.map((scenario) => [scenario.id, scenario] as const))(
    '%s is BLOCKED in the battery',
    async (_id, scenario) => {
      const result = await runScenario(scenario, singlePolicyEnvironment(policy, 'mail_and_payments'), kinds);
      expect(result.verdict).toBe('BLOCKED');
    },
  );
});
