import type { PolicyEvaluator } from '@ape/core';
import { loadPolicy } from '@ape/policy';
import { describe, expect, it } from 'vitest';
import { exampleEnvironment, runAttacks } from './battery.js';
import { loadExamplePolicies } from './example-policies.js';
import { patternEngineRow } from './scenarios/hardening.js';
import { family } from './scenarios/support.js';
import { join } from 'node:path';

const POLICIES = loadExamplePolicies(join(import.meta.dirname, '..', '..', '..', 'policies'));
const PATTERN = '^(\\w+\\s?){1,64}$';
const QUERY = `${'a'.repeat(19)}!`;

/** The policy as loaded, but matching the query on V8's backtracking RegExp first (the engine before the fix). */
function onBacktrackingEngine(text: string): PolicyEvaluator {
  const policy = loadPolicy({ text });
  return {
    digest: policy.digest,
    mayPermit: (tenant, action) => policy.mayPermit(tenant, action),
    evaluate: (request) => {
      new RegExp(PATTERN, 'u').test(String(request.args['query']));
      return policy.evaluate(request);
    },
  };
}

function rowWith(compile?: (text: string) => PolicyEvaluator) {
  return family('fail-open', { layer: 'policy', target: 'workspace_files' }, [
    patternEngineRow('pattern-engine', 'a backtracking pattern', PATTERN, QUERY, compile),
  ]);
}

describe('the pattern-engine rows', () => {
  it('report SUCCEEDED when the argument reaches a backtracking RegExp, and restore RegExp.prototype', async () => {
    const { exec, test } = RegExp.prototype;
    const report = await runAttacks(rowWith(onBacktrackingEngine), exampleEnvironment(POLICIES), 'swapped');
    expect(report.scenarios[0]?.verdict).toBe('SUCCEEDED');
    expect(report.scenarios[0]?.detail).toContain('backtracking-regexp');
    expect(RegExp.prototype.exec).toBe(exec);
    expect(RegExp.prototype.test).toBe(test);
  });

  it('report BLOCKED on the shipped policy loader, whose patterns run on the linear engine', async () => {
    const report = await runAttacks(rowWith(), exampleEnvironment(POLICIES), 'shipped');
    expect(report.scenarios[0]?.verdict).toBe('BLOCKED');
    expect(report.scenarios[0]?.mechanism).toBe('policy:default-deny');
  });
});
