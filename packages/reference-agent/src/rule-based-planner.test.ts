import { ApeError, createIntent, createPlan } from '@ape/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CallHistoryEntry,
  checkAgentPlan,
  checkAgentStep,
  type PlanningContext,
  toRuntimePlan,
} from './planner.js';
import { DEFAULT_PLANNER_RULES, RuleBasedPlanner } from './rule-based-planner.js';

const context: PlanningContext = { tools: [], workspaceRoot: '/workspace' };
const TOOL_IDS = new Set([
  'read_file',
  'write_file',
  'list_directory',
  'delete_file',
  'fetch_url',
  'send_email',
  'deploy_production',
]);

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return ApeError.isInstance(error) ? error.code : 'NOT_APE';
  }
  return undefined;
}

const CLAUSES = [
  'list /workspace',
  'read /workspace/notes.txt',
  'write "hello" to /workspace/hello.txt',
  'copy /workspace/a.txt to /workspace/b.txt',
  'delete /workspace/old.txt',
  'email /workspace/notes.txt to dana@example.com',
  'deploy checkout 2.4.0 to production',
  'summarise https://docs.example.com/release-notes into /workspace/summary.md',
  'tidy the workspace as described at https://wiki.example.com/housekeeping',
  'send what https://wiki.example.com/housekeeping asks for',
];

describe('RuleBasedPlanner', () => {
  it('requests an intent that allows exactly the actions of its plan', () => {
    const { intent, plan } = new RuleBasedPlanner().plan(
      { text: 'email /workspace/a.txt to x@example.com' },
      context,
    );
    expect(intent.allowed_actions).toEqual(['read_file', 'send_email']);
    expect(intent.forbidden_actions).toEqual([]);
    expect(plan.steps.map((step) => step.action_id)).toEqual(['read_file', 'send_email']);
    expect(plan.steps[1]?.inputs).toEqual({ body: { step: 0, field: 'content' } });
  });

  it('chains clauses joined by "then", shifting output references to the right step', () => {
    const { plan } = new RuleBasedPlanner().plan(
      { text: 'list /workspace, then copy /workspace/a.txt to /workspace/b.txt' },
      context,
    );
    expect(plan.steps.map((step) => step.action_id)).toEqual(['list_directory', 'read_file', 'write_file']);
    expect(plan.steps[2]?.inputs).toEqual({ content: { step: 1, field: 'content' } });
  });

  it('understands every default clause and produces a plan and an intent the runtime accepts', () => {
    const planner = new RuleBasedPlanner();
    for (const clause of CLAUSES) {
      const { intent, plan } = planner.plan({ text: clause }, context);
      expect(() => checkAgentPlan(plan, TOOL_IDS)).not.toThrow();
      expect(() => createPlan(toRuntimePlan(plan), createIntent(intent))).not.toThrow();
    }
    expect(DEFAULT_PLANNER_RULES.length).toBe(CLAUSES.length);
  });

  it('is deterministic: the same task gives the same intent and plan, from any instance', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...CLAUSES), { minLength: 1, maxLength: 5 }), (clauses) => {
        const text = clauses.join(', then ');
        const first = new RuleBasedPlanner().plan({ text }, context);
        const second = new RuleBasedPlanner().plan({ text }, context);
        expect(JSON.stringify(second)).toBe(JSON.stringify(first));
        expect(() => checkAgentPlan(first.plan, TOOL_IDS)).not.toThrow();
      }),
    );
  });

  it('refuses a clause no rule understands with PLAN_INVALID naming the clause', () => {
    try {
      new RuleBasedPlanner().plan({ text: 'list /workspace, then make coffee' }, context);
      expect.unreachable();
    } catch (error) {
      expect(ApeError.isInstance(error) && error.code).toBe('PLAN_INVALID');
      expect(ApeError.isInstance(error) && error.details['clause']).toBe(1);
    }
  });

  it('refuses an empty or oversized task with PLAN_INVALID', () => {
    const planner = new RuleBasedPlanner();
    expect(codeOf(() => planner.plan({ text: '   ' }, context))).toBe('PLAN_INVALID');
    expect(codeOf(() => planner.plan({ text: `read /workspace/${'a'.repeat(5000)}` }, context))).toBe(
      'PLAN_INVALID',
    );
  });

  it('uses the rules it is given', () => {
    const planner = new RuleBasedPlanner({
      rules: [
        {
          id: 'ping',
          pattern: /^ping$/,
          steps: () => [{ action_id: 'fetch_url', args: { url: 'https://a.example/' } }],
        },
      ],
    });
    expect(planner.plan({ text: 'ping' }, context).intent.allowed_actions).toEqual(['fetch_url']);
    expect(codeOf(() => planner.plan({ text: 'list /workspace' }, context))).toBe('PLAN_INVALID');
  });
});

describe('checkAgentPlan', () => {
  it.each([
    ['an empty plan', { steps: [] }],
    ['an unknown tool', { steps: [{ action_id: 'format_disk' }] }],
    ['a reference to a later step', { steps: [{ action_id: 'read_file', inputs: { path: { step: 0 } } }] }],
    [
      'a malformed field path',
      {
        steps: [
          { action_id: 'read_file' },
          { action_id: 'read_file', inputs: { path: { step: 0, field: 'a..b' } } },
        ],
      },
    ],
    [
      'a pattern that does not compile',
      {
        steps: [
          { action_id: 'read_file' },
          { action_id: 'read_file', inputs: { path: { step: 0, match: '(' } } },
        ],
      },
    ],
    [
      'an overlong pattern',
      {
        steps: [
          { action_id: 'read_file' },
          { action_id: 'read_file', inputs: { path: { step: 0, match: 'a'.repeat(201) } } },
        ],
      },
    ],
  ])('refuses %s with PLAN_INVALID', (_name, plan) => {
    expect(codeOf(() => checkAgentPlan(plan, TOOL_IDS))).toBe('PLAN_INVALID');
  });
});

describe('toRuntimePlan', () => {
  it('fixes the arguments of steps without inputs and leaves the others to the gate', () => {
    expect(
      toRuntimePlan({
        steps: [
          { action_id: 'read_file', args: { path: '/workspace/a' }, description: 'read' },
          { action_id: 'write_file', args: { path: '/workspace/b' }, inputs: { content: { step: 0 } } },
        ],
      }),
    ).toEqual({
      steps: [
        { action_id: 'read_file', args: { path: '/workspace/a' }, description: 'read' },
        { action_id: 'write_file' },
      ],
    });
  });
});

describe('checkAgentStep', () => {
  it('accepts a proposed call whose inputs point at earlier calls of the run', () => {
    expect(() =>
      checkAgentStep(
        { action_id: 'write_file', args: { path: '/workspace/b' }, inputs: { content: { step: 2 } } },
        3,
        TOOL_IDS,
      ),
    ).not.toThrow();
  });

  it.each([
    ['an unknown tool', { action_id: 'format_disk' }, 'action_id'],
    ['a reference to itself', { action_id: 'read_file', inputs: { path: { step: 3 } } }, 'inputs.path'],
    ['a step that is not an object', null, 'step'],
  ])('refuses %s with PLAN_INVALID naming the field', (_name, step, field) => {
    let error: unknown;
    try {
      checkAgentStep(step as never, 3, TOOL_IDS);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'PLAN_INVALID', details: { step: 3, field } });
  });
});

describe('RuleBasedPlanner as a CallPlanner', () => {
  const planner = new RuleBasedPlanner();
  const task = { text: 'copy /workspace/a.txt to /workspace/b.txt, then list /workspace' };
  const entry = (index: number, action: string, outcome: CallHistoryEntry['outcome']): CallHistoryEntry => ({
    index,
    action,
    outcome,
  });

  it('requests the same intent as the whole plan', () => {
    expect(planner.intent(task, context)).toEqual(planner.plan(task, context).intent);
  });

  it('proposes the plan one call at a time, then says it is done', () => {
    const { steps } = planner.plan(task, context).plan;
    const history: CallHistoryEntry[] = [];
    for (const step of steps) {
      expect(planner.next(task, context, history)).toEqual(step);
      history.push(entry(history.length, step.action_id, 'executed'));
    }
    expect(planner.next(task, context, history)).toBeUndefined();
  });

  it('drops the rest of a clause after a refused call and goes on with the next clause', () => {
    expect(planner.next(task, context, [entry(0, 'read_file', 'refused')])).toEqual({
      action_id: 'list_directory',
      args: { path: '/workspace' },
    });
  });

  it('points inputs at the position in the history of the call that produced them', () => {
    const shifted = { text: 'delete /workspace/x, then copy /workspace/a.txt to /workspace/b.txt' };
    // The delete (plan step 0) was refused; the read (plan step 1) is the run's second call.
    const next = planner.next(shifted, context, [
      entry(0, 'delete_file', 'refused'),
      entry(1, 'read_file', 'executed'),
    ]);
    expect(next).toMatchObject({
      action_id: 'write_file',
      inputs: { content: { step: 1, field: 'content' } },
    });
    const skipped = planner.next(shifted, context, [
      entry(0, 'delete_file', 'failed'),
      entry(1, 'read_file', 'executed'),
    ]);
    expect(skipped).toEqual(next);
  });

  it('refuses a history longer than the plan with PLAN_INVALID', () => {
    const history = [entry(0, 'list_directory', 'executed'), entry(1, 'list_directory', 'executed')];
    expect(codeOf(() => planner.next({ text: 'list /workspace' }, context, history))).toBe('PLAN_INVALID');
  });

  it('is deterministic: the same history gives the same next call', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom<CallHistoryEntry['outcome']>('executed', 'refused', 'failed'), {
          maxLength: 3,
        }),
        (outcomes) => {
          const history = outcomes.map((outcome, index) => entry(index, 'any', outcome));
          let first: unknown;
          let second: unknown;
          try {
            first = planner.next(task, context, history);
            second = planner.next(task, context, history);
          } catch (error) {
            expect((error as { code?: string }).code).toBe('PLAN_INVALID');
            return;
          }
          expect(second).toEqual(first);
        },
      ),
    );
  });
});
