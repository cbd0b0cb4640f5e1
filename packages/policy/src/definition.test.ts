import { describe, expect, it } from 'vitest';
import { compilePolicy, loadPolicy } from './index.js';

const TEXT = `name: model
allowed_actions: [list_dir]
forbidden_actions: [delete_file]
escalation_required: [deploy]
rules:
  - id: read-workspace
    actions: [read_file, "fs.*"]
    effect: allow
    when:
      args: { type: object, required: [path], properties: { path: { type: string } } }
      provenance: [USER_TRUSTED]
    reason: Reads stay in the workspace
limits:
  - { actions: [read_file], max_calls: 3 }
  - { id: hourly, actions: ["fs.*"], max_calls: 9, scope: lineage, window: 1h }
tool_transitions:
  read_file: [list_dir]
tenants:
  acme:
    allowed_actions: [list_dir, read_file]
    forbidden_actions: [deploy]
    limits:
      - { actions: [list_dir], max_calls: 1, scope: tenant }
    tool_transitions:
      list_dir: []
`;

const policy = loadPolicy({ text: TEXT, filename: 'model.yaml' });
const definition = policy.definition;

describe('the policy model (CompiledPolicy.definition)', () => {
  it('gives list entries synthetic ids and rules their own, with effects, actions and conditions', () => {
    expect(definition.base.rules.map((rule) => [rule.id, rule.effect, rule.origin, rule.actions])).toEqual([
      ['allowed_actions[0]', 'allow', 'list', ['list_dir']],
      ['forbidden_actions[0]', 'deny', 'list', ['delete_file']],
      ['escalation_required[0]', 'escalate', 'list', ['deploy']],
      ['read-workspace', 'allow', 'rule', ['read_file', 'fs.*']],
    ]);
    const rule = definition.base.rules[3]!;
    expect(rule.when).toEqual({
      args: { type: 'object', required: ['path'], properties: { path: { type: 'string' } } },
      provenance: ['USER_TRUSTED'],
    });
    expect(rule.reason).toBe('Reads stay in the workspace');
    expect(definition.base.rules[0]!.when).toBeUndefined();
  });

  it('records where each part was written: file, line and JSON path', () => {
    expect(definition.base.rules[3]!.source).toEqual({
      path: '$.rules[0]',
      file: 'model.yaml',
      line: 6,
      column: 5,
    });
    expect(definition.base.limits[1]!.source).toMatchObject({ path: '$.limits[1]', line: 15 });
    expect(definition.base.transitions[0]!.source).toMatchObject({
      path: '$.tool_transitions.read_file',
      line: 17,
    });
    expect(definition.tenants[0]!.filter?.source).toMatchObject({
      path: '$.tenants.acme.allowed_actions',
      line: 20,
    });
  });

  it('carries limits with their default or explicit id, scope and window', () => {
    expect(
      definition.base.limits.map((limit) => [
        limit.id,
        limit.maxCalls,
        limit.scope,
        limit.window,
        limit.windowMs,
      ]),
    ).toEqual([
      ['limits[0]', 3, 'session', undefined, undefined],
      ['hourly', 9, 'lineage', '1h', 3_600_000],
    ]);
  });

  it('keeps each tenant overlay as its own layer with prefixed ids and its filter', () => {
    expect(definition.tenants.map((layer) => layer.tenant)).toEqual(['acme']);
    const acme = definition.tenants[0]!;
    expect(acme.filter).toMatchObject({
      id: 'tenants.acme.allowed_actions',
      actions: ['list_dir', 'read_file'],
    });
    expect(acme.rules.map((rule) => rule.id)).toEqual(['tenants.acme.forbidden_actions[0]']);
    expect(acme.limits.map((limit) => [limit.id, limit.scope])).toEqual([
      ['tenants.acme.limits[0]', 'tenant'],
    ]);
    expect(acme.transitions.map((transition) => [transition.id, transition.followers])).toEqual([
      ['tenants.acme.tool_transitions.list_dir', []],
    ]);
  });

  it('names the policy, its digest and catalogue like the compiled policy', () => {
    expect(definition.name).toBe(policy.name);
    expect(definition.digest).toBe(policy.digest);
    expect(definition.catalogue).toBeUndefined();
    expect(compilePolicy({ actions: ['a'], allowed_actions: ['a'] }).definition.catalogue).toEqual(['a']);
  });

  it('is deeply frozen, so no reader can change what the evaluator was compiled from', () => {
    expect(Object.isFrozen(definition)).toBe(true);
    expect(Object.isFrozen(definition.base.rules)).toBe(true);
    expect(Object.isFrozen(definition.base.rules[3]!.when!.args)).toBe(true);
    expect(Object.isFrozen(definition.tenants[0]!.limits[0]!.source)).toBe(true);
    expect(() => {
      (definition.base.rules as unknown as unknown[]).push({});
    }).toThrow(TypeError);
  });

  it('is frozen all the way down: every object reachable from the model, the document values of `when` included', () => {
    const unfrozen: string[] = [];
    const seen = new Set<object>();
    const walk = (value: unknown, path: string): void => {
      if (typeof value !== 'object' || value === null || seen.has(value)) return;
      seen.add(value);
      if (!Object.isFrozen(value)) unfrozen.push(path);
      for (const key of Reflect.ownKeys(value)) {
        const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
        expect('value' in descriptor, `${path}.${String(key)} is a data property`).toBe(true);
        walk(descriptor.value, `${path}.${String(key)}`);
      }
    };
    const withCatalogue = compilePolicy({ actions: ['a', 'b'], allowed_actions: ['a'] }).definition;
    walk(definition, 'definition');
    walk(withCatalogue, 'withCatalogue');
    expect(unfrozen).toEqual([]);
    // The walk met every part of the model: overlays with a filter, limits, transitions, conditions.
    expect(seen.has(definition.tenants[0]!.filter!.actions)).toBe(true);
    expect(seen.has(definition.base.rules[3]!.when!.provenance!)).toBe(true);
    expect(seen.has(definition.base.transitions[0]!.followers)).toBe(true);
    expect(seen.has(withCatalogue.catalogue!)).toBe(true);
  });

  it('has no line numbers for a policy given as a value', () => {
    const compiled = compilePolicy({ allowed_actions: ['a'] });
    expect(compiled.definition.base.rules[0]!.source).toEqual({ path: '$.allowed_actions[0]' });
  });

  it('is what explain() reads: one row per rule pattern, limit and transition, with the same ids', () => {
    const modelIds = [definition.base, ...definition.tenants].flatMap((layer) => [
      ...(layer.filter === undefined ? [] : [layer.filter.id]),
      ...layer.rules.map((rule) => rule.id),
      ...layer.limits.map((limit) => limit.id),
      ...layer.transitions.map((transition) => transition.id),
    ]);
    expect([...new Set(policy.explain().map((row) => row.rule))]).toEqual(modelIds);
  });

  it('makes the rows of explain() on its first call, once: the same frozen rows every time', () => {
    const fresh = loadPolicy({ text: TEXT, filename: 'model.yaml' });
    const rows = fresh.explain();
    expect(fresh.explain()).toBe(rows);
    expect(Object.isFrozen(rows)).toBe(true);
    expect(rows.every((row) => Object.isFrozen(row))).toBe(true);
    expect(rows).toEqual(policy.explain());
    expect(rows.find((row) => row.rule === 'read-workspace')).toMatchObject({ line: 6, action: 'read_file' });
  });
});
