import { describe, expect, it } from 'vitest';
import { createLabeled } from '../labeled.js';
import { dataOf, INTENT, setup } from './__fixtures__/runtime-setup.js';

const MAIL = {
  to: createLabeled('boss@example.com', 'USER_TRUSTED'),
  body: createLabeled('the page says hello', 'EXTERNAL_UNTRUSTED', ['https://news.example']),
  subject: 'Summary',
};

describe('per-argument labels in the runtime', () => {
  it('hands the policy each leaf’s label by JSON pointer in calls mode, plain leaves with the declared label', async () => {
    const context = setup();
    await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    await context.runtime.call('write_file', context.tool, { args: MAIL, provenance: 'SYSTEM_TRUSTED' });
    const request = context.policy.requests.at(-1)!;
    expect(request.provenance).toBe('EXTERNAL_UNTRUSTED');
    expect({ ...request.argLabels }).toEqual({
      '/to': 'USER_TRUSTED',
      '/body': 'EXTERNAL_UNTRUSTED',
      '/subject': 'SYSTEM_TRUSTED',
    });
    expect(Object.isFrozen(request.argLabels)).toBe(true);
    expect(request.args).toEqual({ to: 'boss@example.com', body: 'the page says hello', subject: 'Summary' });
  });

  it('records the labels in the decision.made audit record', async () => {
    const context = setup();
    await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    await context.runtime.call('write_file', context.tool, { args: MAIL, provenance: 'USER_TRUSTED' });
    const [decision] = dataOf(context.audit.events, 'decision.made');
    expect(decision?.['argLabels']).toEqual({
      '/to': 'USER_TRUSTED',
      '/body': 'EXTERNAL_UNTRUSTED',
      '/subject': 'USER_TRUSTED',
    });
  });

  it('shows the labels to the approver in the escalation request', async () => {
    const context = setup({ script: [{ approved: true, approver: 'alice', provenance: 'USER_TRUSTED' }] });
    await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    await context.runtime.call('send_email', context.tool, { args: MAIL, provenance: 'USER_TRUSTED' });
    expect({ ...context.escalation.requests[0]?.argLabels }).toEqual({
      '/to': 'USER_TRUSTED',
      '/body': 'EXTERNAL_UNTRUSTED',
      '/subject': 'USER_TRUSTED',
    });
  });

  it('hands the labels to the policy in plan mode too', async () => {
    const context = setup();
    await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    await context.runtime.submitPlan(
      { steps: [{ action_id: 'write_file' }] },
      { provenance: 'USER_TRUSTED' },
    );
    await context.runtime.executeStep(0, context.tool, { args: MAIL, provenance: 'USER_TRUSTED' });
    expect(context.policy.requests.at(-1)?.argLabels?.['/body']).toBe('EXTERNAL_UNTRUSTED');
    expect(context.tool).toHaveBeenCalledTimes(1);
  });

  it('sends no label map for a call without arguments, and records none', async () => {
    const context = setup();
    await context.runtime.setIntent(INTENT, { provenance: 'USER_TRUSTED' });
    await context.runtime.call('read_file', context.tool, { args: {}, provenance: 'USER_TRUSTED' });
    expect(context.policy.requests.at(-1)).not.toHaveProperty('argLabels');
    expect(dataOf(context.audit.events, 'decision.made')[0]).not.toHaveProperty('argLabels');
  });
});
