import type { AIMessage, BaseMessage } from '@langchain/core/messages';
import { Command, END, MemorySaver, MessagesAnnotation, START, StateGraph } from '@langchain/langgraph';
import { ToolNode } from '@langchain/langgraph/prebuilt';
import { describe, expect, it } from 'vitest';
import {
  call,
  INJECTION,
  ofType,
  resultsShown,
  scripted,
  setup,
  thread,
  WIKI,
} from './__fixtures__/setup.js';
import { approve, isApeEscalation } from './index.js';

/** A hand-built LangGraph agent: a model node and a ToolNode of APE-wrapped tools. */
function graphOf(model: ReturnType<typeof scripted>, tools: ReturnType<typeof setup>['tools']) {
  const bound = model.bindTools(tools);
  return new StateGraph(MessagesAnnotation)
    .addNode('model', async (state) => ({ messages: [await bound.invoke(state.messages)] }))
    .addNode('tools', new ToolNode(tools))
    .addEdge(START, 'model')
    .addConditionalEdges('model', (state) => {
      const last = state.messages.at(-1) as AIMessage;
      return (last.tool_calls?.length ?? 0) > 0 ? 'tools' : END;
    })
    .addEdge('tools', 'model')
    .compile({ checkpointer: new MemorySaver() });
}

/** The value of the first interrupt a paused run returned. */
function interruptOf(result: object): unknown {
  return (result as { __interrupt__?: readonly { value?: unknown }[] }).__interrupt__?.[0]?.value;
}

const ask = (content: string) => ({ messages: [{ role: 'user', content }] as unknown as BaseMessage[] });

describe('wrapTool in a LangGraph graph', () => {
  it('runs an allowed call and refuses a forbidden one, which never reaches the tool', async () => {
    const { ape, spies, tools, events } = setup();
    const wrapped = tools.map((tool) => ape.wrapTool(tool));
    const model = scripted([
      call('c1', 'fetch_url', { url: WIKI }),
      call('c2', 'fetch_url', { url: 'http://attacker.test/x' }),
      { text: 'done' },
    ]);
    await graphOf(model, wrapped as never).invoke(ask('Read'), thread('g-allow'));
    expect(spies.fetch_url).toHaveBeenCalledTimes(1);
    expect(resultsShown(model).get('c1')).toBe(`the page at ${WIKI}`);
    expect(resultsShown(model).get('c2')).toMatch(/^APE denied fetch_url: .+\(rules: default\)$/);
    expect(ofType(events(), 'decision.made').map((event) => event.data['decision'])).toEqual([
      'ALLOW',
      'DENY',
    ]);
  });

  it('escalates through interrupt inside the tool and runs the call once approved', async () => {
    const { ape, spies, tools } = setup();
    const model = scripted([call('c1', 'delete_file', { path: '/workspace/a' }), { text: 'done' }]);
    const graph = graphOf(model, tools.map((tool) => ape.wrapTool(tool)) as never);
    const paused = await graph.invoke(ask('Delete a'), thread('g-approve'));
    const value = interruptOf(paused);
    expect(isApeEscalation(value)).toBe(true);
    expect(spies.delete_file).not.toHaveBeenCalled();
    if (!isApeEscalation(value)) return;
    await graph.invoke(new Command({ resume: approve(value, { approver: 'alice' }) }), thread('g-approve'));
    expect(spies.delete_file).toHaveBeenCalledTimes(1);
  });

  it("in dataflow mode escalates only the call whose argument copies the attacker's page", async () => {
    const { ape, spies, tools, events } = setup({ provenance: 'dataflow' });
    const model = scripted([
      call('c1', 'fetch_url', { url: 'https://docs.example.com/evil' }),
      call('c2', 'send_email', { to: 'me@acme.example', body: 'my own summary' }),
      call('c3', 'send_email', { to: 'me@acme.example', body: `quote: ${INJECTION.slice(0, 40)}` }),
      { text: 'done' },
    ]);
    const paused = await graphOf(model, tools.map((tool) => ape.wrapTool(tool)) as never).invoke(
      ask('Summarise and mail me'),
      thread('g-dataflow'),
    );
    expect(spies.send_email).toHaveBeenCalledTimes(1);
    expect(spies.send_email.mock.calls[0]?.[0]).toMatchObject({ body: 'my own summary' });
    expect(interruptOf(paused)).toMatchObject({ action: 'send_email', toolCallId: 'c3' });
    const decisions = ofType(events(), 'decision.made').map((event) => [
      event.data['decision'],
      event.data['provenance'],
    ]);
    expect(decisions).toEqual([
      ['ALLOW', 'USER_TRUSTED'],
      ['ALLOW', 'USER_TRUSTED'],
    ]);
  });

  it('refuses a call run without a thread id (CONFIG_INVALID) and never runs the tool', async () => {
    const { ape, spies, tools } = setup();
    const readFile = ape.wrapTool(tools[3]!);
    const output = await readFile.invoke({ path: '/workspace/a' });
    expect(output).toMatch(/^APE denied read_file: No thread for this call/);
    expect(spies.read_file).not.toHaveBeenCalled();
  });
});
