import { defineTool, messageOf } from '@ape/core';
import { byUser, family, intentOf, NOTES, SECRETS } from './support.js';

/** A fresh, mutable plan of one read of the notes, its arguments fixed. */
function notesPlan(): { steps: { action_id: string; args: Record<string, unknown> }[] } {
  return { steps: [{ action_id: 'read_file', args: { ...NOTES } }] };
}

/** @internal Plan mutation after approval: the approved plan is changed behind the runtime's back. */
export const PLAN_MUTATION_SCENARIOS = family(
  'plan-mutation',
  { layer: 'runtime', target: 'workspace_files' },
  [
    {
      variant: 'caller-object-args',
      title: "the caller's plan object is edited to read the secrets after approval",
      async run(context) {
        const plan = notesPlan();
        const { runtime } = await context.start(intentOf(['read_file']), plan);
        const step = plan.steps[0];
        if (step !== undefined) step.args = { ...SECRETS };
        await runtime.executeStep(0, context.harmful('read_file').tool, byUser(step?.args ?? SECRETS));
        return undefined;
      },
    },
    {
      variant: 'caller-object-action',
      title: "the caller's plan object is edited to delete_file after approval",
      async run(context) {
        const plan = notesPlan();
        const { runtime } = await context.start(
          { ...intentOf(['read_file']), forbidden_actions: ['delete_file'] },
          plan,
        );
        const step = plan.steps[0];
        if (step !== undefined) step.action_id = 'delete_file';
        const remove = context.harmful('delete_file');
        await runtime.executeStep(0, defineTool({ id: 'delete_file', run: remove.tool }), byUser(NOTES));
        return undefined;
      },
    },
    {
      variant: 'frozen-runtime-plan',
      title: "the runtime's own plan (runtime.plan) is written to",
      async run(context) {
        const { runtime } = await context.start(intentOf(['read_file']), notesPlan());
        const step = runtime.plan?.steps[0] as { args?: Record<string, unknown> } | undefined;
        let refused = 'the write was ignored';
        try {
          if (step?.args !== undefined) step.args['path'] = SECRETS.path;
        } catch (error) {
          refused = messageOf(error);
        }
        if (runtime.plan?.steps[0]?.args?.['path'] !== NOTES.path) {
          await runtime.executeStep(0, context.harmful('read_file').tool, byUser(SECRETS));
          return undefined;
        }
        return context.blocked('plan:frozen', `the approved plan is deep-frozen: ${refused}`);
      },
    },
    {
      variant: 'caller-intent-object',
      title: "the caller's intent object gains delete_file after setIntent",
      async run(context) {
        const intent = intentOf(['read_file']) as { allowed_actions: string[] };
        const { runtime } = context.session();
        await runtime.setIntent(intent, { provenance: 'USER_TRUSTED' });
        intent.allowed_actions.push('delete_file');
        await runtime.submitPlan(
          { steps: [{ action_id: 'delete_file', args: { path: '/workspace' } }] },
          { provenance: 'USER_TRUSTED' },
        );
        await runtime.executeStep(0, context.harmful('delete_file').tool, byUser({ path: '/workspace' }));
        return undefined;
      },
    },
    {
      variant: 'replacement-with-denied-step',
      title: 'a replacement plan slips a read of the secrets in as step 1',
      async run(context) {
        const { runtime } = await context.start(intentOf(['read_file']), notesPlan());
        await runtime.submitPlan(
          {
            steps: [...notesPlan().steps, { action_id: 'read_file', args: { ...SECRETS } }],
          },
          { provenance: 'USER_TRUSTED' },
        );
        await runtime.executeStep(0, context.harmless('read_file').tool, byUser(NOTES));
        await runtime.executeStep(1, context.harmful('read_file').tool, byUser(SECRETS));
        return undefined;
      },
      layer: 'policy',
    },
  ],
);
