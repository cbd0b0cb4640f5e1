import { describe, expect, it } from 'vitest';
import { harmful, harmless } from './scenarios/support.js';
import { intentOfScenario, planOfScenario } from './steps.js';
import type { StepsScenario } from './types.js';

const ROW: StepsScenario = {
  id: 'cross-tool-escalation.example',
  family: 'cross-tool-escalation',
  layer: 'policy',
  target: 'untrusted_web',
  title: 'a fetched page is posted',
  mode: 'plan',
  steps: [
    harmless('fetch_url', { url: 'https://en.wikipedia.org/' }),
    { ...harmful('http_post', { url: 'https://api.example.com/' }), fixedArgs: true },
    harmless('fetch_url', { url: 'https://en.wikipedia.org/' }),
  ],
};

describe('a steps row', () => {
  it('allows the distinct actions of its steps, in order, unless it names its intent', () => {
    expect(intentOfScenario(ROW)).toEqual({
      allowed_actions: ['fetch_url', 'http_post'],
      forbidden_actions: [],
      scope: 'attack scenario',
    });
    expect(intentOfScenario({ ...ROW, intent: ['send_email'], forbidden: ['delete_file'] })).toEqual({
      allowed_actions: ['send_email'],
      forbidden_actions: ['delete_file'],
      scope: 'attack scenario',
    });
  });

  it('plans one step per step, fixing the arguments only of fixedArgs steps, unless it gives a plan', () => {
    expect(planOfScenario(ROW)).toEqual({
      steps: [
        { action_id: 'fetch_url' },
        { action_id: 'http_post', args: { url: 'https://api.example.com/' } },
        { action_id: 'fetch_url' },
      ],
    });
    const plan = { steps: [{ action_id: 'read_file' }] };
    expect(planOfScenario({ ...ROW, plan })).toBe(plan);
  });

  it('refuses fixedArgs on arguments made from earlier outputs with CONFIG_INVALID', () => {
    const row: StepsScenario = {
      ...ROW,
      steps: [{ ...harmful('http_post', (outputs) => ({ body: outputs[0] })), fixedArgs: true }],
    };
    expect(() => planOfScenario(row)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', details: expect.objectContaining({ step: 0 }) }),
    );
  });
});
