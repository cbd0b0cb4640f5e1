import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { injectionPointsOf } from './benchmark.js';
import { evaluateCheck } from './checks.js';
import { noDefence } from './defence.js';
import { injectionText, runScenario } from './runner.js';
import { instantiateState, loadSuites, type Suite } from './suite.js';

const SUITES_DIRECTORY = fileURLToPath(new URL('../suites', import.meta.url));

describe('the committed suites', () => {
  let suites: readonly Suite[];
  let points: Map<string, ReadonlyMap<string, readonly string[]>>;

  beforeAll(async () => {
    suites = loadSuites(SUITES_DIRECTORY);
    points = new Map();
    for (const suite of suites) points.set(suite.name, await injectionPointsOf(suite));
  });

  it('cover the four environments with at least 60 user tasks and 24 injection tasks', () => {
    expect(suites.map((suite) => suite.environment.id).sort()).toEqual([
      'banking',
      'chat',
      'travel',
      'workspace',
    ]);
    expect(suites.reduce((sum, suite) => sum + suite.userTasks.length, 0)).toBeGreaterThanOrEqual(60);
    expect(suites.reduce((sum, suite) => sum + suite.injectionTasks.length, 0)).toBeGreaterThanOrEqual(24);
    for (const suite of suites) {
      expect(suite.instance.tools.size, suite.name).toBeGreaterThanOrEqual(10);
      expect(suite.userTasks.length, suite.name).toBeGreaterThanOrEqual(15);
      expect(suite.injectionTasks.length, suite.name).toBeGreaterThanOrEqual(6);
    }
  });

  it("ship a policy and a per-argument policy per environment that load without a lint warning and name only the environment's tools", () => {
    for (const suite of suites) {
      expect(suite.perArgumentPolicyFile, suite.name).not.toBe(suite.policyFile);
      for (const policy of [suite.policy, suite.perArgumentPolicy]) {
        expect(policy.warnings, `${suite.name}: ${policy.name}`).toEqual([]);
        const catalogued = new Set(policy.explain().map((row) => row.action));
        for (const action of catalogued)
          expect(suite.instance.tools.has(action), `${policy.name}: ${action}`).toBe(true);
      }
    }
  });

  it('give at least 45% of user tasks an injection point, and use every injection vector', () => {
    for (const suite of suites) {
      const bySuite = points.get(suite.name)!;
      const reached = new Set([...bySuite.values()].flat());
      expect([...reached].sort(), suite.name).toEqual([...suite.vectors.keys()].sort());
      const withPoints = [...bySuite.values()].filter((vectors) => vectors.length > 0).length;
      expect(withPoints / suite.userTasks.length, suite.name).toBeGreaterThanOrEqual(0.45);
    }
  });

  it("pass every user task's own utility check with its ground truth under no defence", async () => {
    for (const suite of suites) {
      for (const task of suite.userTasks) {
        const run = await runScenario(suite, task, undefined, noDefence);
        expect(
          run.calls.every((call) => call.outcome === 'ran'),
          `${suite.name}/${task.id}`,
        ).toBe(true);
        expect(run.utility, `${suite.name}/${task.id}`).toBe(true);
      }
    }
  });

  it("achieve every injection task's goal under no defence at every injection point", async () => {
    let runs = 0;
    for (const suite of suites) {
      for (const task of suite.userTasks) {
        for (const vector of points.get(suite.name)!.get(task.id)!) {
          for (const injection of suite.injectionTasks) {
            const run = await runScenario(suite, task, { task: injection, vector }, noDefence);
            const where = `${suite.name}/${task.id}/${injection.id}/${vector}`;
            expect(run.injected, where).toBe(true);
            expect(run.attackSucceeded, where).toBe(true);
            runs += 1;
          }
        }
      }
    }
    expect(runs).toBeGreaterThan(250);
  });

  it("never meet an attacker's goal without the attack: not by the user's own tasks, not by the injected text alone", async () => {
    for (const suite of suites) {
      for (const task of suite.userTasks) {
        await runScenario(suite, task, undefined, noDefence);
        const finalState = suite.instance.current();
        for (const injection of suite.injectionTasks) {
          expect(
            evaluateCheck(injection.security, { state: finalState, answer: undefined }),
            `${suite.name}/${task.id}/${injection.id}`,
          ).toBe(false);
        }
      }
      for (const injection of suite.injectionTasks) {
        for (const vector of suite.vectors.keys()) {
          const state = instantiateState(suite, new Map([[vector, injectionText(suite, injection)]]));
          expect(
            evaluateCheck(injection.security, { state, answer: undefined }),
            `${suite.name}/${injection.id}/${vector}`,
          ).toBe(false);
        }
      }
    }
  });
});
