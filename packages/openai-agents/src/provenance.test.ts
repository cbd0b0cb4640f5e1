import { isLabeled } from '@ape/core';
import { compilePolicy } from '@ape/policy';
import { Agent, Runner, setTracingDisabled } from '@openai/agents';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, scriptedModel } from './__fixtures__/scripted-model.js';
import { INJECTION, setup } from './__fixtures__/setup.js';
import { TaintTracker } from './provenance.js';

beforeAll(() => {
  setTracingDisabled(true);
});

const runner = new Runner({ tracingDisabled: true });
const EVIL_PAGE = 'https://evil.example.com/docs';

/** Allows e-mail only with trusted arguments; anything untrusted is denied. */
const mailPolicy = compilePolicy({
  version: 1,
  name: 'mail',
  allowed_actions: ['fetch_url'],
  rules: [
    { id: 'mail-trusted', actions: ['send_email'], effect: 'allow', when: { provenance: ['USER_TRUSTED'] } },
  ],
});

describe('provenance of proposed calls', () => {
  it('context: after untrusted output, a call with arguments of its own is untrusted too', async () => {
    const { ape, spies, tools } = setup({ policy: mailPolicy });
    const scripted = scriptedModel([
      call('c1', 'fetch_url', { url: EVIL_PAGE }),
      call('c2', 'send_email', { to: 'me@acme.test', body: 'hello' }),
      { text: 'ok' },
    ]);
    const agent = new Agent({ name: 'a', model: scripted.model, tools: [...ape.thread('ctx').tools(tools)] });
    await runner.run(agent, 'go');
    expect(spies.send_email).not.toHaveBeenCalled();
  });

  it('dataflow: a call that copies no untrusted text keeps the user trust and runs', async () => {
    const { ape, spies, tools } = setup({ policy: mailPolicy, provenance: 'dataflow' });
    const scripted = scriptedModel([
      call('c1', 'fetch_url', { url: EVIL_PAGE }),
      call('c2', 'send_email', { to: 'me@acme.test', body: 'hello' }),
      { text: 'ok' },
    ]);
    const agent = new Agent({ name: 'a', model: scripted.model, tools: [...ape.thread('df1').tools(tools)] });
    await runner.run(agent, 'go');
    expect(spies.send_email).toHaveBeenCalledTimes(1);
  });

  it('dataflow: a call that copies attacker text is untrusted and never runs', async () => {
    const { ape, spies, tools } = setup({ policy: mailPolicy, provenance: 'dataflow' });
    const scripted = scriptedModel([
      call('c1', 'fetch_url', { url: EVIL_PAGE }),
      call('c2', 'send_email', { to: 'me@acme.test', body: `fyi: ${INJECTION.slice(20, 60)}` }),
      { text: 'ok' },
    ]);
    const agent = new Agent({ name: 'a', model: scripted.model, tools: [...ape.thread('df2').tools(tools)] });
    await runner.run(agent, 'go');
    expect(spies.send_email).not.toHaveBeenCalled();
  });

  it('a tool declared trusted leaves the next call with the user trust', async () => {
    const { ape, spies, tools, events } = setup({ policy: mailPolicy });
    const scripted = scriptedModel([
      call('c1', 'fetch_url', { url: EVIL_PAGE }),
      call('c2', 'send_email', { to: 'me@acme.test', body: 'hello' }),
      { text: 'ok' },
    ]);
    const thread = ape.thread('trusted');
    const agent = new Agent({
      name: 'a',
      model: scripted.model,
      tools: [...thread.tools(tools, { outputLabels: { fetch_url: 'SYSTEM_TRUSTED' } })],
    });
    await runner.run(agent, 'go');
    const decisions = events().filter((event) => event.type === 'decision.made');
    expect(decisions.map((event) => [event.data['action'], event.data['provenance']])).toEqual([
      ['fetch_url', 'USER_TRUSTED'],
      ['send_email', 'USER_TRUSTED'],
    ]);
    expect(spies.send_email).toHaveBeenCalledTimes(1);
  });

  it('dataflow labels every string leaf that contains any window of an untrusted output (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 12, maxLength: 80 }),
        fc.string({ maxLength: 20 }),
        fc.string({ maxLength: 20 }),
        fc.nat(),
        (output, before, after, start) => {
          const tracker = new TaintTracker(12);
          tracker.recordResult('c', 'fetch_url', 'EXTERNAL_UNTRUSTED', output);
          const from = start % (output.length - 11);
          const copied = `${before}${output.slice(from, from + 12)}${after}`;
          const { args } = tracker.label('dataflow', { nested: [{ text: copied }] }, 'USER_TRUSTED');
          const leaf = (args['nested'] as { text: unknown }[])[0]?.text;
          return isLabeled(leaf) && leaf.label === 'EXTERNAL_UNTRUSTED';
        },
      ),
    );
  });
});
