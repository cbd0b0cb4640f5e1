import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isLabeled, labelOf, trustRank } from '@ape/core';
import { afterEach, describe, expect, it } from 'vitest';
import { injectionPointsOf, runBenchmark } from './benchmark.js';
import { type CallRequest, type Defence, noDefence, runTool, toolFilterDefence } from './defence.js';
import { formatTables } from './report.js';
import { findInjectionPoints, INJECTION_MARKER, runScenario } from './runner.js';
import { instantiateState, loadSuite, loadSuites } from './suite.js';

const TINY = fileURLToPath(new URL('./__fixtures__/tiny-suite', import.meta.url));
const TRAVEL = fileURLToPath(new URL('../suites/travel', import.meta.url));
const directories: string[] = [];

afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** A defence that runs every call and keeps the requests the runner built. */
function recording(): { defence: Defence; requests: CallRequest[] } {
  const requests: CallRequest[] = [];
  const defence: Defence = {
    id: 'recording',
    title: 'Recording',
    start: () =>
      Promise.resolve({
        escalations: 0,
        call: (request: CallRequest) => {
          requests.push(request);
          return runTool(request.tool, request.args);
        },
        close: () => Promise.resolve(),
      }),
  };
  return { defence, requests };
}

describe('runScenario', () => {
  it('runs the injection task right after the output that carries it, then finishes the user task', async () => {
    const suite = loadSuite(TINY);
    const [task] = suite.userTasks;
    const run = await runScenario(
      suite,
      task!,
      { task: suite.injectionTasks[0]!, vector: 'statement_note' },
      noDefence,
    );
    expect(run.calls.map((call) => `${call.origin}:${call.tool}:${call.outcome}`)).toEqual([
      'user:read_file:ran',
      'injection:send_money:ran',
      'user:send_money:ran',
    ]);
    expect(run).toMatchObject({ injected: true, attackSucceeded: true, utility: false, escalations: 0 });
  });

  it('labels calls by context taint: USER_TRUSTED until an untrusted output enters the conversation', async () => {
    const suite = loadSuite(TINY);
    const { defence, requests } = recording();
    await runScenario(
      suite,
      suite.userTasks[0]!,
      { task: suite.injectionTasks[0]!, vector: 'statement_note' },
      defence,
    );
    expect(requests.map((request) => [request.tool.id, request.contextLabel])).toEqual([
      ['read_file', 'USER_TRUSTED'],
      ['send_money', 'EXTERNAL_UNTRUSTED'],
      ['send_money', 'EXTERNAL_UNTRUSTED'],
    ]);
  });

  it('keeps the context trusted after outputs the tool declares trusted', async () => {
    const suite = loadSuite(TINY);
    const { defence, requests } = recording();
    await runScenario(
      suite,
      { ...suite.userTasks[1]!, calls: [...suite.userTasks[1]!.calls, ...suite.userTasks[1]!.calls] },
      undefined,
      defence,
    );
    expect(requests.map((request) => request.contextLabel)).toEqual(['USER_TRUSTED', 'USER_TRUSTED']);
  });

  it('labels dataflow per argument: prompt text trusted, copied values with their source, injected text untrusted', async () => {
    const suite = loadSuite(TINY);
    const { defence, requests } = recording();
    await runScenario(
      suite,
      suite.userTasks[0]!,
      { task: suite.injectionTasks[0]!, vector: 'statement_note' },
      defence,
    );
    const [, injected, user] = requests as [CallRequest, CallRequest, CallRequest];
    expect(isLabeled(user.labeledArgs['recipient'])).toBe(false);
    expect(user.labeledArgs['amount']).toMatchObject({
      value: 50,
      label: 'EXTERNAL_UNTRUSTED',
      sources: ['tool:read_file'],
    });
    expect(labelOf(user.labeledArgs, 'USER_TRUSTED')).toBe('EXTERNAL_UNTRUSTED');
    for (const name of ['recipient', 'amount', 'subject']) {
      expect(injected.labeledArgs[name]).toMatchObject({
        label: 'EXTERNAL_UNTRUSTED',
        sources: ['tool:read_file'],
      });
    }
    expect(user.args).toEqual({ recipient: 'DE44500105175407324931', amount: 50, subject: 'Savings' });
  });

  it('does not make a call whose arguments refer to an output that a defence blocked', async () => {
    const suite = loadSuite(TINY);
    const blockReads: Defence = {
      id: 'block-reads',
      title: 'Block reads',
      start: () =>
        Promise.resolve({
          escalations: 0,
          call: (request: CallRequest) =>
            request.tool.id === 'read_file'
              ? Promise.resolve({ kind: 'blocked' as const, message: 'no' })
              : runTool(request.tool, request.args),
          close: () => Promise.resolve(),
        }),
    };
    const run = await runScenario(suite, suite.userTasks[0]!, undefined, blockReads);
    expect(run.calls.map((call) => call.outcome)).toEqual(['blocked', 'unresolved']);
    expect(run.utility).toBe(false);
  });

  it('stops every later call once the defence ends the session', async () => {
    const suite = loadSuite(TINY);
    const stopAll: Defence = {
      id: 'stop',
      title: 'Stop',
      start: () =>
        Promise.resolve({
          escalations: 1,
          call: () => Promise.resolve({ kind: 'stopped' as const, message: 'terminated' }),
          close: () => Promise.resolve(),
        }),
    };
    const run = await runScenario(suite, suite.userTasks[0]!, undefined, stopAll);
    expect(run.calls.map((call) => call.outcome)).toEqual(['stopped', 'not-reached']);
  });
});

describe('provenance of every call in every committed run', () => {
  it('gives dataflow labels at least the trust of context taint, never more than USER_TRUSTED', async () => {
    const { defence, requests } = recording();
    for (const suite of loadSuites(fileURLToPath(new URL('../suites', import.meta.url)))) {
      const points = await injectionPointsOf(suite);
      for (const task of suite.userTasks) {
        await runScenario(suite, task, undefined, defence);
        for (const vector of points.get(task.id)!) {
          for (const injection of suite.injectionTasks)
            await runScenario(suite, task, { task: injection, vector }, defence);
        }
      }
    }
    expect(requests.length).toBeGreaterThan(1000);
    for (const request of requests) {
      const dataflow = labelOf(request.labeledArgs, 'USER_TRUSTED');
      expect(trustRank(dataflow)).toBeGreaterThanOrEqual(trustRank(request.contextLabel));
      expect(trustRank(dataflow)).toBeLessThanOrEqual(trustRank('USER_TRUSTED'));
    }
  });
});

describe('toolFilterDefence', () => {
  it("refuses tools outside the user task's ground truth, and the tool never runs", async () => {
    const suite = loadSuite(TINY);
    const task = suite.userTasks[1]!;
    const session = await toolFilterDefence.start(suite, task);
    suite.instance.load(instantiateState(suite));
    const before = JSON.stringify(suite.instance.current());
    const sendMoney = suite.instance.tools.get('send_money')!;
    const args = { recipient: 'US133000000121212121212', amount: 800, subject: 'Fee' };
    const outcome = await session.call({
      tool: sendMoney,
      args,
      labeledArgs: args,
      contextLabel: 'USER_TRUSTED',
    });
    expect(outcome.kind).toBe('blocked');
    expect(JSON.stringify(suite.instance.current())).toBe(before);
  });
});

describe('findInjectionPoints', () => {
  it('finds the vectors the ground truth shows the model, in order', async () => {
    const suite = loadSuite(TINY);
    expect(await findInjectionPoints(suite, suite.userTasks[0]!, noDefence)).toEqual(['statement_note']);
    expect(await findInjectionPoints(suite, suite.userTasks[1]!, noDefence)).toEqual([]);
  });

  it('refuses a suite whose attacker text reaches the model through a tool declared trusted', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ape-suite-'));
    directories.push(directory);
    const text = readFileSync(join(TRAVEL, 'suite.json'), 'utf8').replace(
      '"address": "3 Rue Lepic, 75018 Paris"',
      '"address": "3 Rue Lepic, 75018 Paris {{review_cozy_stay}}"',
    );
    writeFileSync(join(directory, 'suite.json'), text);
    copyFileSync(join(TRAVEL, 'policy.yaml'), join(directory, 'policy.yaml'));
    copyFileSync(join(TRAVEL, 'policy-per-argument.yaml'), join(directory, 'policy-per-argument.yaml'));
    const suite = loadSuite(directory);
    const task = suite.userTasks.find((candidate) => candidate.id === 'user_task_3')!;
    await expect(findInjectionPoints(suite, task, noDefence)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      details: { vector: 'review_cozy_stay', tool: 'get_hotels_address' },
    });
  });
});

describe('runBenchmark', () => {
  it('runs a fifth suite added from data files alone and reports it beside the others', async () => {
    const result = await runBenchmark([loadSuite(TINY)], [noDefence, toolFilterDefence]);
    expect(result.suites).toEqual([
      {
        name: 'tiny-savings',
        environment: 'banking',
        tools: 11,
        userTasks: 2,
        injectionTasks: 1,
        injectionVectors: 1,
        userTasksWithInjectionPoints: 1,
        attackedRuns: 1,
      },
    ]);
    const [none, filter] = result.defences;
    expect(none!.overall).toMatchObject({ utility: 1, attackSuccessRate: 1, attackedRuns: 1 });
    // send_money is in the ground truth, so the oracle filter cannot stop this attack.
    expect(filter!.overall).toMatchObject({ utility: 1, attackSuccessRate: 1 });
    expect(formatTables(result)).toContain(
      'tiny-savings (banking): 11 tools, 2 user tasks, 1 injection tasks, 1 attacked runs',
    );
  });

  it('is deterministic: two runs give identical JSON, with no times in it', async () => {
    const suites = [loadSuite(TINY)];
    const first = JSON.stringify(await runBenchmark(suites, [noDefence, toolFilterDefence]));
    const second = JSON.stringify(await runBenchmark(suites, [noDefence, toolFilterDefence]));
    expect(second).toBe(first);
    expect(first).not.toMatch(/"(ts|time|timestamp|duration\w*|elapsed\w*)":/);
    expect(first).not.toContain(INJECTION_MARKER);
  });
});
