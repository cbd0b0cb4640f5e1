import { compilePolicy, loadPolicy } from '@ape/policy';
import { describe, expect, it } from 'vitest';
import { loadCasbin } from './peers/casbin.js';
import { loadCedar } from './peers/cedar.js';
import {
  CASBIN_ACTION_MODEL,
  exactAction,
  exactEffect,
  GLOB_COUNT,
  globEffect,
  request,
  SCALE_LIMITS,
  scaleCasbin,
  scaleCedar,
  scaleJson,
  scaleProbeAction,
  scaleYaml,
  threeListDocument,
} from './workloads.js';

const DECISION_OF = { allow: 'ALLOW', deny: 'DENY', escalate: 'ESCALATE' } as const;

describe('the scaling workload', () => {
  const size = 40;
  const actions = [
    ...Array.from({ length: size }, (_, index) => exactAction(index)),
    ...Array.from({ length: GLOB_COUNT }, (_, index) => `ns${index}.read`),
    'unknown.tool',
    'ns3.deeper.read',
  ];

  it('is read by APE as written: exact ids and globs carry their effect, the rest is denied', () => {
    const policy = loadPolicy({ text: scaleYaml(size) }, { limits: SCALE_LIMITS });
    const expected = actions.map((action) => {
      const exact = /^tool\.(\d+)$/.exec(action);
      if (exact !== null) return DECISION_OF[exactEffect(Number(exact[1]))];
      const glob = /^ns(\d+)\.[^.]+$/.exec(action);
      return glob === null ? 'DENY' : DECISION_OF[globEffect(Number(glob[1]))];
    });
    expect(actions.map((action) => policy.evaluate(request(action)).decision)).toEqual(expected);
  });

  it('gets the same decisions from Cedar and casbin as from APE (casbin: ALLOW or not)', async () => {
    const policy = loadPolicy({ text: scaleYaml(size) }, { limits: SCALE_LIMITS });
    const cedar = loadCedar(scaleCedar(size));
    const casbin = await loadCasbin(CASBIN_ACTION_MODEL, scaleCasbin(size));
    // Cedar's `like` lets `*` cross dots; APE's single `*` does not. Only ids without extra dots are compared.
    const comparable = actions.filter((action) => action !== 'ns3.deeper.read');
    const ape = comparable.map((action) => policy.evaluate(request(action)).decision);
    expect(comparable.map((action) => cedar.decide(cedar.prepare(action)))).toEqual(ape);
    expect(comparable.map((action) => (casbin.decide('agent', action) ? 'ALLOW' : 'DENY'))).toEqual(
      ape.map((decision) => (decision === 'ALLOW' ? 'ALLOW' : 'DENY')),
    );
  });

  it('probes an allowed exact id at every size', () => {
    for (const scale of [10, 100, 1_000, 10_000, 100_000]) {
      const index = Number(scaleProbeAction(scale).slice('tool.'.length));
      expect(index).toBeLessThan(scale);
      expect(exactEffect(index)).toBe('allow');
    }
  });

  it('writes the same document as YAML and as JSON: one policy digest, the JSON read by the JSON reader', () => {
    for (const scale of [10, 1_000]) {
      const fromYaml = loadPolicy({ text: scaleYaml(scale) }, { limits: SCALE_LIMITS });
      const json = scaleJson(scale);
      expect(() => JSON.parse(json)).not.toThrow();
      const fromJson = loadPolicy({ text: json, format: 'json' }, { limits: SCALE_LIMITS });
      expect(fromJson.digest).toBe(fromYaml.digest);
      expect(fromJson.name).toBe(`scale-${scale}`);
    }
  });

  it('compiles the three-list document of case 1', () => {
    expect(compilePolicy(threeListDocument()).evaluate(request('send_email')).decision).toBe('ESCALATE');
  });
});
