import { Command } from '@langchain/langgraph';
import { describe, expect, it } from 'vitest';
import { agentOf, call, ofType, resultsShown, scripted, setup, thread, WIKI } from './__fixtures__/setup.js';

describe('the APE middleware in createAgent', () => {
  it('runs an allowed call and labels its output in the audit log', async () => {
    const { ape, spies, tools, events } = setup();
    const model = scripted([call('c1', 'fetch_url', { url: WIKI }), { text: 'summarised' }]);
    const result = await agentOf(ape, tools, model).invoke(
      { messages: [{ role: 'user', content: 'Read the page' }] },
      thread('t-allow'),
    );
    expect(result.messages.at(-1)?.content).toBe('summarised');
    expect(spies.fetch_url).toHaveBeenCalledTimes(1);
    expect(resultsShown(model).get('c1')).toBe(`the page at ${WIKI}`);
    expect(ofType(events(), 'decision.made')[0]?.data).toMatchObject({
      action: 'fetch_url',
      decision: 'ALLOW',
      provenance: 'USER_TRUSTED',
    });
    expect(ofType(events(), 'tool.executed')[0]?.data).toMatchObject({
      ok: true,
      outputLabel: 'EXTERNAL_UNTRUSTED',
    });
    expect(ape.isTainted('t-allow')).toBe(true);
  });
});
