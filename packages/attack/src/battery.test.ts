import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  AgentRuntime,
  Authority,
  AuthorityToken,
  Clock,
  PolicyEvaluator,
  RuntimeConfig,
} from '@ape/core';
import { loadPolicy } from '@ape/policy';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPolicyCheckOnlyHost } from './__fixtures__/policy-check-only-host.js';
import { exampleEnvironment, runAttacks } from './battery.js';
import { EXAMPLE_POLICY_NAMES, type ExamplePolicyName, loadExamplePolicies } from './example-policies.js';
import { runAttackBattery } from './run-attack-battery.js';
import { LOADER_SCENARIOS, loaderRow, NUMERIC_DUPLICATE_TENANT } from './scenarios/hardening.js';
import { ATTACK_SCENARIOS } from './scenarios/index.js';
import { family } from './scenarios/support.js';
import { ATTACK_FAMILIES, type AttackReport, type AttackResult, type AttackScenario } from './types.js';

/** The repository's example policies: the one copy every package reads. */
const POLICIES_DIRECTORY = join(import.meta.dirname, '..', '..', '..', 'policies');
const EXAMPLE_POLICIES = loadExamplePolicies(POLICIES_DIRECTORY);

function policyText(name: ExamplePolicyName): string {
  return readFileSync(join(POLICIES_DIRECTORY, `${name}.yaml`), 'utf8');
}

/** Runs `scenarios` against the example policies, `overrides` replacing some of them. */
function runWeakened(
  scenarios: readonly AttackScenario[],
  overrides: Partial<Record<ExamplePolicyName, PolicyEvaluator>>,
  createAuthority?: (tenant: string, clock: Clock) => Authority,
  createRuntime?: (config: RuntimeConfig) => AgentRuntime,
): Promise<AttackReport> {
  return runAttacks(
    scenarios,
    exampleEnvironment(EXAMPLE_POLICIES, overrides, createAuthority, createRuntime),
    'weakened',
  );
}

/**
 * Scenarios that SUCCEED against the shipped runtime: real bugs outside @ape/attack, reported rather
 * than hidden. Empty: the last one (`confused-deputy.tool-id-alias`, a plan step whose `tool_id`
 * aliased a forbidden tool) was fixed in @ape/core's gate.
 */
const KNOWN_RUNTIME_BUGS: readonly string[] = [];

/** Rows whose defence is core's argument reader itself (accessors refused): no weakened host shows them real. */
const GETTER_ROWS: readonly string[] = [
  'confused-deputy.own-map-getter-element',
  'confused-deputy.calls-getter-path',
];

function byId(report: AttackReport): ReadonlyMap<string, AttackResult> {
  return new Map(report.scenarios.map((result) => [result.id, result]));
}

function succeeded(report: AttackReport): string[] {
  return report.scenarios.filter((result) => result.verdict === 'SUCCEEDED').map((result) => result.id);
}

function weaken(text: string, from: string | RegExp, to: string): string {
  const weakened = text.replace(from, to);
  expect(weakened).not.toBe(text);
  return weakened;
}

/** A policy that allows every action, with no conditions, limits or transitions. */
const ALLOW_EVERYTHING = loadPolicy({ text: 'version: 1\nname: allow-everything\nallowed_actions: ["*"]\n' });

/**
 * A bearer-token authority: it issues plain objects and accepts any token for any call. It is what
 * the single-use, bound, unforgeable tokens of @ape/authority replace.
 */
function createBearerAuthority(tenant: string, clock: Clock): Authority {
  return {
    tenant,
    issue: (): AuthorityToken => ({
      fingerprint: 'bearer',
      issuedAt: clock.now(),
      expiresAt: clock.now() + 1,
    }),
    consume: () => undefined,
    revoke: () => true,
    revokeSession: () => 0,
    revokeTenant: () => 0,
  };
}

let shipped: AttackReport;
beforeAll(async () => {
  shipped = await runAttackBattery({ policyDirectory: POLICIES_DIRECTORY });
});

describe('the attack battery', () => {
  it('has at least 40 scenarios with unique ids, several in every family', () => {
    expect(ATTACK_SCENARIOS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(ATTACK_SCENARIOS.map((scenario) => scenario.id)).size).toBe(ATTACK_SCENARIOS.length);
    for (const family of ATTACK_FAMILIES) {
      const count = ATTACK_SCENARIOS.filter((scenario) => scenario.family === family).length;
      expect(count, family).toBeGreaterThanOrEqual(3);
    }
    for (const scenario of ATTACK_SCENARIOS) expect(scenario.id.startsWith(`${scenario.family}.`)).toBe(true);
  });

  it('drives calls mode in at least 15 scenarios, across the plan-mode families and every layer', () => {
    const calls = ATTACK_SCENARIOS.filter((scenario) => scenario.mode === 'calls');
    expect(calls.length).toBeGreaterThanOrEqual(15);
    const families = new Set(calls.map((scenario) => scenario.family));
    for (const family of ATTACK_FAMILIES.filter((name) => name !== 'approval-flooding')) {
      expect(families.has(family), family).toBe(true);
    }
    expect(new Set(calls.map((scenario) => scenario.layer))).toEqual(
      new Set(['policy', 'authority', 'runtime']),
    );
  });

  it('blocks every scenario on the shipped policies, naming a mechanism', () => {
    expect(succeeded(shipped)).toEqual(KNOWN_RUNTIME_BUGS);
    for (const result of shipped.scenarios) {
      if (result.verdict === 'BLOCKED') {
        expect(result.mechanism, result.id).not.toBe('none');
        expect(result.mechanism, result.id).not.toMatch(/^error:/);
      }
    }
    expect(shipped.ok).toBe(true);
    expect(shipped.total).toBe(ATTACK_SCENARIOS.length);
    expect(shipped.blocked + shipped.succeeded).toBe(shipped.total);
  });

  it('names the check that stopped representative attacks', () => {
    const results = byId(shipped);
    const expected: Readonly<Record<string, string>> = {
      'prompt-injection.forbidden-delete': 'provenance:no-destruction-on-untrusted-input',
      'prompt-injection.exfiltrate-by-email': 'escalation:denied',
      'prompt-injection.forbidden-shell': 'plan:policy:forbidden_actions[1]',
      'confused-deputy.untrusted-plan': 'provenance',
      'confused-deputy.untrusted-approval': 'escalation:untrusted_approval',
      'cross-tool-escalation.read-then-delete': 'transition:tool_transitions.read_file',
      'instruction-smuggling.path-traversal': 'policy:default-deny',
      'instruction-smuggling.secrets-dot-segments': 'policy:never-touch-secrets',
      'authority-replay.reuse': 'token:replay',
      'authority-replay.forged': 'token:unknown_token',
      'authority-replay.expired': 'token:expired',
      'authority-replay.args-swapped': 'token:binding:argsHash',
      'authority-replay.other-step': 'token:binding:stepIndex',
      'authority-replay.other-plan': 'token:binding:planHash',
      'authority-replay.other-intent-version': 'token:binding:intentVersion',
      'authority-replay.other-session': 'token:binding:session',
      'authority-replay.other-tenant': 'tenant-isolation',
      'runtime-confusion.execute-during-escalation': 'state-machine',
      'plan-mutation.caller-object-args': 'plan:fixed-args',
      'plan-mutation.frozen-runtime-plan': 'plan:frozen',
      'budget-exhaustion.fetch-loop': 'limit:fetch-budget',
      'approval-flooding.truthy-approval': 'escalation:denied',
      'fail-open.policy-throws': 'fail-closed:POLICY_EVALUATION_FAILED',
      'fail-open.audit-fails-on-decision': 'fail-closed:audit',
      'fail-open.authority-throws': 'fail-closed:AUTHORITY_FAILURE',
      'fail-open.escalation-never-answers': 'escalation:timeout',
      'prompt-injection.calls-exfiltrate-by-email': 'escalation:denied',
      'confused-deputy.calls-untrusted-approval': 'escalation:untrusted_approval',
      'confused-deputy.calls-tool-alias': 'tool-binding',
      'cross-tool-escalation.calls-transition-after-denied-escalation':
        'transition:tool_transitions.read_file',
      'authority-replay.calls-reuse': 'token:replay',
      'authority-replay.calls-args-swapped': 'token:binding:argsHash',
      'authority-replay.calls-other-chain-head': 'token:binding:planHash',
      'authority-replay.calls-other-tenant': 'tenant-isolation',
      'authority-replay.calls-reauthorised-older-token': 'token:revoked',
      'authority-replay.reauthorised-older-token': 'token:revoked',
      'runtime-confusion.calls-concurrent': 'state-machine',
      'runtime-confusion.calls-then-plan': 'state-machine',
      'runtime-confusion.plan-then-call': 'state-machine',
      'budget-exhaustion.calls-budget-after-denied-escalation': 'limit:email-budget',
      'fail-open.calls-usage-store-throws': 'fail-closed:USAGE_STORE_FAILURE',
      'fail-open.calls-audit-fails-on-extension': 'fail-closed:audit',
      'instruction-smuggling.path-nfd': 'policy:default-deny',
      'instruction-smuggling.calls-path-leading-tilde': 'policy:default-deny',
      'confused-deputy.iterator-hides-label': 'escalation:denied',
      'confused-deputy.calls-iterator-hides-label': 'escalation:denied',
      'confused-deputy.own-map-getter-element': 'schema',
      'confused-deputy.calls-getter-path': 'schema',
      'fail-open.authority-clock-nan': 'fail-closed:CLOCK_INVALID',
      'fail-open.calls-authority-clock-nan': 'fail-closed:CLOCK_INVALID',
      'fail-open.numeric-duplicate-tenant': 'load:DUPLICATE_KEY',
      'fail-open.pattern-backreference': 'load:UNSAFE_PATTERN',
      'fail-open.pattern-bounded-nested-quantifier': 'policy:default-deny',
      'fail-open.pattern-polynomial': 'policy:default-deny',
    };
    for (const [id, mechanism] of Object.entries(expected)) {
      expect(results.get(id)?.mechanism, id).toBe(mechanism);
    }
  });

  it('reports the queue overflow: none approved, the excess denied unasked', () => {
    const result = byId(shipped).get('approval-flooding.queue-overflow');
    expect(result?.verdict).toBe('BLOCKED');
    expect(result?.detail).toContain('none was approved');
  });
});

describe('the attacks are real: weakened defences let them through', () => {
  it('untrusted_web without its provenance rules lets injections and exfiltration succeed', async () => {
    // Every rule that looks at provenance is gone: sending, writing anywhere and destroying are
    // allowed whatever the data's label.
    const text = [
      'version: 1',
      'name: untrusted-web-without-provenance',
      'allowed_actions: [read_file, list_directory, search_web]',
      'rules:',
      '  - { id: send-anything, actions: [send_email, http_post], effect: allow }',
      '  - { id: write-anywhere, actions: [write_file], effect: allow }',
      '  - { id: destroy-anything, actions: [delete_file, deploy_production], effect: allow }',
      '  - id: fetch-https',
      '    actions: [fetch_url]',
      '    effect: allow',
      '    when: { args: { type: object, required: [url], properties: { url: { type: string, x-ape-url: { schemes: [https], hosts: ["*.wikipedia.org"] } } } } }',
    ].join('\n');
    const report = await runWeakened(
      ATTACK_SCENARIOS.filter((scenario) => scenario.target === 'untrusted_web'),
      { untrusted_web: loadPolicy({ text }) },
    );
    expect(succeeded(report)).toEqual(
      expect.arrayContaining([
        'prompt-injection.exfiltrate-by-email',
        'prompt-injection.exfiltrate-by-http-post',
        'prompt-injection.forbidden-delete',
        'prompt-injection.write-outside-workspace',
        'confused-deputy.label-laundering',
        'confused-deputy.nested-untrusted-value',
        'cross-tool-escalation.fetch-output-to-post',
        'cross-tool-escalation.fetch-output-written-outside',
        'cross-tool-escalation.derived-output',
        'prompt-injection.calls-exfiltrate-by-email',
        'prompt-injection.calls-forbidden-delete',
        'prompt-injection.calls-write-outside-workspace',
        'confused-deputy.calls-untrusted-proposal',
        'confused-deputy.calls-label-laundering',
        'cross-tool-escalation.calls-fetch-output-to-post',
        'confused-deputy.iterator-hides-label',
        'confused-deputy.calls-iterator-hides-label',
      ]),
    );
  });

  it('workspace_files with a raw regex instead of the x-ape-path keyword lets traversal succeed', async () => {
    // "^/workspace/" on the raw string: "/workspace/../etc/passwd" matches it.
    let text = weaken(
      policyText('workspace_files'),
      /x-ape-path: \{ roots: \[\/workspace\] \}/g,
      'pattern: "^/workspace/"',
    );
    text = weaken(
      text,
      'x-ape-path: { roots: [/workspace/.secrets] }',
      'pattern: "^/workspace/\\\\.secrets/"',
    );
    const report = await runWeakened(
      ATTACK_SCENARIOS.filter((scenario) => scenario.family === 'instruction-smuggling'),
      { workspace_files: loadPolicy({ text, filename: 'workspace_files.yaml' }) },
    );
    expect(succeeded(report)).toEqual(
      expect.arrayContaining([
        'instruction-smuggling.path-traversal',
        'instruction-smuggling.encoded-dots',
        'instruction-smuggling.encoded-separator',
        'instruction-smuggling.nul-byte',
        'instruction-smuggling.secrets-dot-segments',
        'instruction-smuggling.calls-path-traversal',
        'instruction-smuggling.calls-secrets-dot-segments',
        'instruction-smuggling.path-nfd',
        'instruction-smuggling.path-trailing-dot',
        'instruction-smuggling.path-percent-letter',
        'instruction-smuggling.calls-path-nfd',
        'instruction-smuggling.calls-path-trailing-dot',
      ]),
    );
    expect(byId(report).get('instruction-smuggling.sibling-prefix')?.verdict).toBe('BLOCKED');
  });

  it('human_in_loop without transitions and limits lets chained and repeated calls succeed', async () => {
    const text = weaken(
      policyText('human_in_loop'),
      /tool_transitions:[\s\S]*$/,
      'metadata: { weakened: "no tool_transitions, no limits" }\n',
    );
    const report = await runWeakened(
      ATTACK_SCENARIOS.filter((scenario) => scenario.target === 'human_in_loop'),
      { human_in_loop: loadPolicy({ text }) },
    );
    expect(succeeded(report)).toEqual(
      expect.arrayContaining([
        'cross-tool-escalation.read-then-delete',
        'cross-tool-escalation.step-after-deploy',
        'budget-exhaustion.email-loop',
        'budget-exhaustion.second-deploy',
        'cross-tool-escalation.calls-read-then-delete',
        'cross-tool-escalation.calls-step-after-deploy',
        'cross-tool-escalation.calls-transition-after-denied-escalation',
        'budget-exhaustion.calls-email-loop',
        'budget-exhaustion.calls-budget-after-denied-escalation',
      ]),
    );
  });

  it('read_only without its limit lets a runaway fetch loop succeed, in both modes', async () => {
    const text = weaken(policyText('read_only'), /limits:[\s\S]*$/, '');
    const ids = ['budget-exhaustion.fetch-loop', 'budget-exhaustion.calls-fetch-loop'];
    const report = await runWeakened(
      ATTACK_SCENARIOS.filter((scenario) => ids.includes(scenario.id)),
      { read_only: loadPolicy({ text }) },
    );
    expect(succeeded(report)).toEqual(ids);
  });

  it('a policy that allows everything lets every policy-layer scenario succeed', async () => {
    const overrides = Object.fromEntries(
      EXAMPLE_POLICY_NAMES.map((name) => [name, ALLOW_EVERYTHING]),
    ) as Partial<Record<ExamplePolicyName, PolicyEvaluator>>;
    // The loader rows load their own policy text: they are shown real below.
    const policyLayer = ATTACK_SCENARIOS.filter(
      (scenario) => scenario.layer === 'policy' && !LOADER_SCENARIOS.includes(scenario),
    );
    expect(policyLayer.length).toBeGreaterThanOrEqual(25);
    const report = await runWeakened(policyLayer, overrides);
    expect(succeeded(report)).toEqual(policyLayer.map((scenario) => scenario.id));
  });

  it('a bearer-token authority lets every authority-layer scenario succeed', async () => {
    const authorityLayer = ATTACK_SCENARIOS.filter((scenario) => scenario.layer === 'authority');
    expect(authorityLayer.length).toBeGreaterThanOrEqual(10);
    const report = await runWeakened(authorityLayer, {}, createBearerAuthority);
    expect(succeeded(report)).toEqual(authorityLayer.map((scenario) => scenario.id));
  });

  it('a policy-check-only host (no state machine, chain, tokens, audit or fail-closed paths) lets every calls-mode runtime-layer scenario succeed', async () => {
    // Except the getter row: this host reads arguments with core's fixed readers, which refuse
    // accessors too; only swapping those back would show it real (docs/security.md).
    const runtimeLayer = ATTACK_SCENARIOS.filter(
      (scenario) =>
        scenario.layer === 'runtime' && scenario.mode === 'calls' && !GETTER_ROWS.includes(scenario.id),
    );
    expect(runtimeLayer.length).toBeGreaterThanOrEqual(10);
    const report = await runWeakened(runtimeLayer, {}, undefined, createPolicyCheckOnlyHost);
    expect(succeeded(report)).toEqual(runtimeLayer.map((scenario) => scenario.id));
  });

  it('the same host lets the plan-mode runtime-layer scenarios whose only defence is the runtime succeed', async () => {
    // The other plan-mode runtime rows (every illegal transition, execute before the intent or the
    // plan, a second setIntent, the plan and intent objects mutated after approval, action ids the
    // host cannot map, an untrusted intent) reach no tool through this host either: they are not
    // covered by a weakened defence yet.
    const ids = [
      'confused-deputy.untrusted-plan',
      'confused-deputy.untrusted-approval',
      'confused-deputy.foreign-tenant-authority',
      'authority-replay.after-plan-change',
      'runtime-confusion.execute-after-terminate',
      'runtime-confusion.execute-during-escalation',
      'runtime-confusion.reload-during-escalation',
      'runtime-confusion.skip-a-step',
      'runtime-confusion.repeat-a-step',
      'runtime-confusion.odd-step-indices',
      'runtime-confusion.concurrent-same-step',
      'budget-exhaustion.huge-plan',
      'fail-open.policy-throws',
      'fail-open.policy-answers-nonsense',
      'fail-open.policy-may-permit-throws',
      'fail-open.audit-fails-on-decision',
      'fail-open.audit-fails-on-token',
      'fail-open.escalation-handler-throws',
      'fail-open.escalation-never-answers',
      'fail-open.clock-throws',
      'fail-open.clock-returns-nan',
      'fail-open.authority-throws',
      'fail-open.token-store-throws',
      'fail-open.authority-clock-nan',
    ];
    const rows = ATTACK_SCENARIOS.filter((scenario) => ids.includes(scenario.id));
    expect(rows.map((scenario) => scenario.layer)).toEqual(ids.map(() => 'runtime'));
    const report = await runWeakened(rows, {}, undefined, createPolicyCheckOnlyHost);
    expect(succeeded(report).sort()).toEqual([...ids].sort());
  });

  it('the tenant overlay the numeric duplicate key replaced: as an unfixed loader read the text, the delete runs', async () => {
    // What the YAML parser kept before the fix: the later 0x273A key (10042) replaced the "10042" overlay.
    const asReadBefore = NUMERIC_DUPLICATE_TENANT.replace(/ {2}"10042":\n(?: {4}.*\n)+/, '');
    expect(asReadBefore).not.toBe(NUMERIC_DUPLICATE_TENANT);
    const [row] = family('fail-open', { layer: 'policy', target: 'workspace_files' }, [
      loaderRow('numeric-duplicate-tenant', 'as read before', asReadBefore, '10042', 'delete_file', {
        path: '/workspace',
      }),
    ]);
    const report = await runWeakened([row!], {});
    expect(succeeded(report)).toEqual(['fail-open.numeric-duplicate-tenant']);
  });

  it('the pattern rows let no argument reach a backtracking RegExp, and refuse what RE2 cannot run', () => {
    // Their realness needs @ape/policy's engine swapped back (docs/security.md): the rows assert
    // the engine, and the loader refusal, on the shipped code.
    const results = byId(shipped);
    for (const id of ['fail-open.pattern-bounded-nested-quantifier', 'fail-open.pattern-polynomial']) {
      expect(results.get(id)?.verdict, id).toBe('BLOCKED');
      expect(results.get(id)?.detail, id).toContain('conditions of plain-words not met');
    }
    expect(results.get('fail-open.pattern-backreference')?.detail).toContain('backreferences');
  });

  it('every calls-mode scenario succeeds against one of the weakened defences above', () => {
    // The policy layer against allow-everything, the authority layer against the bearer
    // authority, the runtime layer against the policy-check-only host: each test above asserts
    // every row of its layer; this pins that the three layers are all there are.
    const layers = new Set(
      ATTACK_SCENARIOS.filter((scenario) => scenario.mode === 'calls').map((s) => s.layer),
    );
    expect([...layers].sort()).toEqual(['authority', 'policy', 'runtime']);
    for (const id of GETTER_ROWS)
      expect(
        ATTACK_SCENARIOS.some((scenario) => scenario.id === id),
        id,
      ).toBe(true);
  });
});
