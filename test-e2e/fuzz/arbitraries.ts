import fc from 'fast-check';

/**
 * fast-check arbitraries for every input APE takes from outside: policies (as documents and as
 * text), intents, plans, action requests, token bindings and runtime call sequences. They mix
 * well-formed values with hostile ones (prototype keys, odd Unicode, wrong types) so the same
 * generators exercise both the happy path and the refusals.
 */

/** How many cases a property runs: `APE_FUZZ_RUNS` (as `pnpm fuzz` sets), else `ci`, scaled by `share`. */
export function runs(ci: number, share = 1): number {
  const requested = Number(process.env['APE_FUZZ_RUNS']);
  return Number.isSafeInteger(requested) && requested > 0 ? Math.max(1, Math.round(requested * share)) : ci;
}

/** A fixed seed unless `APE_FUZZ_SEED` is set, so CI failures reproduce. */
export function seed(): number {
  const given = Number(process.env['APE_FUZZ_SEED']);
  return Number.isSafeInteger(given) ? given : 20_260_101;
}

const ACTIONS = [
  'read_file',
  'write_file',
  'list_directory',
  'delete_file',
  'fetch_url',
  'search_web',
  'send_email',
  'http_post',
  'deploy_production',
  'execute_shell',
] as const;

const HOSTILE_STRINGS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  '',
  ' ',
  'read_file ',
  'Read_File',
  'd\u0435lete_file',
  'delete\u200b_file',
  '\u0000',
  '../../etc/passwd',
  '/workspace/../etc/passwd',
  '/workspace/%2e%2e/x',
  'https://docs.python.org@evil.test/',
  '\ud800',
  'x'.repeat(300),
] as const;

/** An action id: mostly known ones, sometimes hostile text. */
export const actionId: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...ACTIONS) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);

/** A provenance label, or (rarely) something that is not one. */
export const label: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('SYSTEM_TRUSTED', 'USER_TRUSTED', 'EXTERNAL_UNTRUSTED') },
  { weight: 1, arbitrary: fc.constantFrom('ROOT', '', 'user_trusted') },
);

const key: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('path', 'url', 'to', 'body', 'content', 'environment', 'query') },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype') },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...HOSTILE_STRINGS),
  fc.string({ maxLength: 30 }),
  fc.integer(),
  fc.double({ noNaN: false }),
  fc.boolean(),
  fc.constant(null),
);

/** JSON-ish argument values, nested a little, with hostile keys and leaves. */
export const jsonValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Call arguments: an object of JSON-ish values (sometimes built with JSON.parse, so `__proto__` is an own key). */
export const args: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.dictionary(key, jsonValue, { maxKeys: 5 }),
  fc
    .dictionary(key, jsonValue, { maxKeys: 5 })
    .map((value) => JSON.parse(JSON.stringify(value) ?? '{}') as Record<string, unknown>),
);

/** An action request as the runtime builds it, plus malformed variants. */
export const actionRequest: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 9,
    arbitrary: fc.record(
      {
        tenant: fc.constantFrom('acme', 'trial', 'acme-bank', '__proto__', ''),
        action: actionId,
        args,
        provenance: label,
        session: fc.record(
          {
            id: fc.string({ maxLength: 8 }),
            previousAction: actionId,
            calls: fc.dictionary(actionId, fc.oneof(fc.nat(300), fc.constant(-1), fc.constant(Number.NaN))),
          },
          { requiredKeys: ['id'] },
        ),
        intent: fc.record({
          allowed_actions: fc.array(actionId, { maxLength: 4 }),
          forbidden_actions: fc.array(actionId, { maxLength: 2 }),
        }),
      },
      { requiredKeys: ['tenant', 'action', 'args', 'provenance'] },
    ),
  },
  { weight: 1, arbitrary: jsonValue },
);

/** An intent: mostly valid, sometimes not. */
export const intent: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      {
        allowed_actions: fc.uniqueArray(actionId, { maxLength: 5 }),
        forbidden_actions: fc.uniqueArray(actionId, { maxLength: 3 }),
        escalation_required: fc.uniqueArray(actionId, { maxLength: 2 }),
        scope: fc.string({ maxLength: 40 }),
        description: fc.string({ maxLength: 40 }),
      },
      { requiredKeys: ['allowed_actions', 'forbidden_actions', 'scope'] },
    ),
  },
  { weight: 1, arbitrary: jsonValue },
);

/** A plan step. */
export const planStep: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record(
      { action_id: actionId, tool_id: actionId, args, description: fc.string({ maxLength: 20 }) },
      { requiredKeys: ['action_id'] },
    ),
  },
  { weight: 1, arbitrary: jsonValue },
);

/** A plan: `{ steps }`, a bare array of steps, or junk. */
export const plan: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ steps: fc.array(planStep, { maxLength: 5 }) }) },
  { weight: 1, arbitrary: fc.array(planStep, { maxLength: 5 }) },
  { weight: 1, arbitrary: jsonValue },
);

const argsCondition: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.constant({
    type: 'object',
    required: ['path'],
    properties: { path: { type: 'string', 'x-ape-path': { roots: ['/workspace'] } } },
  }),
  fc.constant({
    type: 'object',
    required: ['url'],
    properties: { url: { type: 'string', 'x-ape-url': { schemes: ['https'], hosts: ['example.com'] } } },
  }),
  fc.constant({ type: 'object', properties: { content: { type: 'string', maxLength: 100 } } }),
);

const rule: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    id: fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/),
    actions: fc.uniqueArray(fc.constantFrom(...ACTIONS, '*_file', '*'), { minLength: 1, maxLength: 3 }),
    effect: fc.constantFrom('allow', 'deny', 'escalate'),
    when: fc.record(
      {
        args: argsCondition,
        provenance: fc.uniqueArray(fc.constantFrom('SYSTEM_TRUSTED', 'USER_TRUSTED', 'EXTERNAL_UNTRUSTED'), {
          minLength: 1,
        }),
      },
      { requiredKeys: [] },
    ),
    reason: fc.string({ maxLength: 30 }),
  },
  { requiredKeys: ['id', 'actions', 'effect'] },
);

/**
 * A policy document that is valid more often than not: the lists, rules with argument and
 * provenance conditions, limits and transitions. (Rule ids may repeat: the loader reports that.)
 */
export const policyDocument: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    version: fc.constant(1),
    name: fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/),
    description: fc.string({ maxLength: 40 }),
    allowed_actions: fc.uniqueArray(fc.constantFrom(...ACTIONS), { maxLength: 4 }),
    forbidden_actions: fc.uniqueArray(fc.constantFrom(...ACTIONS), { maxLength: 2 }),
    escalation_required: fc.uniqueArray(fc.constantFrom(...ACTIONS), { maxLength: 2 }),
    rules: fc.uniqueArray(rule, { maxLength: 4, selector: (value) => value['id'] }),
    limits: fc.array(
      fc.record({
        actions: fc.uniqueArray(fc.constantFrom(...ACTIONS), { minLength: 1, maxLength: 2 }),
        max_calls: fc.nat(50),
      }),
      { maxLength: 2 },
    ),
    tool_transitions: fc.dictionary(
      fc.constantFrom(...ACTIONS),
      fc.uniqueArray(fc.constantFrom(...ACTIONS), { maxLength: 3 }),
      { maxKeys: 2 },
    ),
    metadata: fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.string({ maxLength: 10 }), { maxKeys: 2 }),
  },
  { requiredKeys: ['version'] },
);

const YAML_TOKENS = [
  'version: 1\n',
  'allowed_actions: [read_file]\n',
  'rules:\n',
  '  - id: r\n',
  '    actions: [a]\n',
  '    effect: allow\n',
  '&a ',
  '*a',
  '<<: ',
  '!!binary ',
  '!custom ',
  '%YAML 1.1\n',
  '---\n',
  '...\n',
  '[',
  ']',
  '{',
  '}',
  ': ',
  '- ',
  '  ',
  '\n',
  '"',
  "'",
  '#',
  '__proto__: ',
  // Prototype-pollution payloads, so the "nothing is polluted" checks can fail.
  '__proto__:\n  polluted: yes\n',
  '{"__proto__": {"polluted": true}}',
  'constructor:\n  prototype:\n    polluted: 1\n',
  '"__proto__": { "toString": "polluted" }',
  'yes',
  'on',
  '1e400',
  '0x1F',
  '\ufeff',
  '\r\n',
  '\t',
  '? ',
  '|\n',
  '>-\n',
] as const;

/** Text assembled from YAML syntax fragments and arbitrary characters: mostly invalid, always hostile. */
export const yamlishText: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...YAML_TOKENS) },
      { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
    ),
    {
      maxLength: 40,
    },
  )
  .map((parts) => parts.join(''));

/** Seven binding fields with few distinct values, so equal and unequal bindings both occur often. */
export const binding = fc.record({
  tenant: fc.constantFrom('acme', 'globex'),
  session: fc.constantFrom('s1', 's2'),
  intentVersion: fc.constantFrom('i1', 'i2'),
  planHash: fc.constantFrom('p1', 'p2'),
  stepIndex: fc.nat(2),
  action: fc.constantFrom('read_file', 'delete_file'),
  argsHash: fc.constantFrom('a'.repeat(64), 'b'.repeat(64)),
});

/** One call an agent host (or an attacker driving it) may make on a runtime. */
export type RuntimeCall =
  | { readonly kind: 'setIntent'; readonly intent: unknown; readonly provenance: string }
  | { readonly kind: 'updateIntent'; readonly intent: unknown; readonly provenance: string }
  | { readonly kind: 'submitPlan'; readonly plan: unknown; readonly provenance: string }
  | {
      readonly kind: 'executeStep';
      readonly index: number;
      readonly args: unknown;
      readonly provenance: string;
    }
  | {
      readonly kind: 'authorize';
      readonly index: number;
      readonly args: unknown;
      readonly provenance: string;
    }
  | { readonly kind: 'advanceClock'; readonly milliseconds: number }
  | { readonly kind: 'terminate' }
  /** `executeStep` of the runtime's next step, with its planned args. */
  | { readonly kind: 'executeNext'; readonly provenance: string }
  /** `authorize` of the runtime's next step; the token joins the session's list. */
  | { readonly kind: 'authorizeNext'; readonly provenance: string }
  /** `gate.execute` with the n-th token authorised so far (modulo their count): replays included. */
  | { readonly kind: 'gateExecute'; readonly token: number };

const smallIntent = fc.record({
  allowed_actions: fc.uniqueArray(fc.constantFrom(...ACTIONS), { minLength: 1, maxLength: 4 }),
  forbidden_actions: fc.constant([]),
  scope: fc.constant('fuzz'),
});
const smallPlan = fc.record({
  steps: fc.array(
    fc.record({ action_id: fc.constantFrom(...ACTIONS), args }, { requiredKeys: ['action_id'] }),
    { minLength: 1, maxLength: 4 },
  ),
});
const stepIndex = fc.oneof(fc.nat(4), fc.constantFrom(-1, 0.5, Number.NaN));

const anyCalls: fc.Arbitrary<RuntimeCall[]> = fc.array(
  fc.oneof(
    fc.record({
      kind: fc.constant('setIntent' as const),
      intent: fc.oneof(smallIntent, intent),
      provenance: label,
    }),
    fc.record({
      kind: fc.constant('updateIntent' as const),
      intent: fc.oneof(smallIntent, intent),
      provenance: label,
    }),
    fc.record({
      kind: fc.constant('submitPlan' as const),
      plan: fc.oneof(smallPlan, plan),
      provenance: label,
    }),
    fc.record({ kind: fc.constant('executeStep' as const), index: stepIndex, args, provenance: label }),
    fc.record({ kind: fc.constant('authorize' as const), index: stepIndex, args, provenance: label }),
    fc.record({ kind: fc.constant('advanceClock' as const), milliseconds: fc.nat(120_000) }),
    fc.constant({ kind: 'terminate' as const }),
  ),
  { maxLength: 12 },
);

/** A sequence of runtime calls: half start like a sensible session (trusted intent and plan), then anything goes. */
export const runtimeCalls: fc.Arbitrary<RuntimeCall[]> = fc
  .tuple(fc.boolean(), smallIntent, smallPlan, anyCalls)
  .map(([sensible, firstIntent, firstPlan, rest]) =>
    sensible
      ? [
          { kind: 'setIntent' as const, intent: firstIntent, provenance: 'USER_TRUSTED' },
          {
            kind: 'submitPlan' as const,
            plan: {
              steps: firstPlan.steps.map((step, index) => ({
                ...step,
                action_id:
                  firstIntent.allowed_actions[index % firstIntent.allowed_actions.length] ?? step.action_id,
              })),
            },
            provenance: 'USER_TRUSTED',
          },
          ...rest,
        ]
      : rest,
  );

/** Actions the shipped untrusted_web policy allows without conditions. */
const ALWAYS_ALLOWED = ['read_file', 'list_directory', 'search_web'] as const;
const trustedLabel = fc.constantFrom('USER_TRUSTED', 'SYSTEM_TRUSTED', 'USER_TRUSTED', 'EXTERNAL_UNTRUSTED');

/**
 * Sessions that reach the tools: a trusted intent and plan of allowed actions, then mostly runs of
 * the next step (by `executeStep`, or `authorize` then `gate.execute`, with replays of old tokens),
 * with clock jumps, terminations and any other call mixed in.
 */
export const toolReachingCalls: fc.Arbitrary<RuntimeCall[]> = fc
  .tuple(
    fc.uniqueArray(fc.constantFrom(...ALWAYS_ALLOWED), { minLength: 1, maxLength: 3 }),
    fc.array(fc.nat(2), { minLength: 1, maxLength: 5 }),
    fc.array(
      fc.oneof(
        {
          weight: 6,
          arbitrary: fc.record({ kind: fc.constant('executeNext' as const), provenance: trustedLabel }),
        },
        {
          weight: 3,
          arbitrary: fc.record({ kind: fc.constant('authorizeNext' as const), provenance: trustedLabel }),
        },
        { weight: 4, arbitrary: fc.record({ kind: fc.constant('gateExecute' as const), token: fc.nat(4) }) },
        {
          weight: 1,
          arbitrary: fc.record({ kind: fc.constant('advanceClock' as const), milliseconds: fc.nat(400_000) }),
        },
        { weight: 1, arbitrary: anyCalls.map((calls) => calls[0] ?? ({ kind: 'terminate' } as const)) },
      ),
      { minLength: 1, maxLength: 10 },
    ),
  )
  .map(([allowed, stepPicks, rest]): RuntimeCall[] => [
    {
      kind: 'setIntent',
      intent: { allowed_actions: allowed, forbidden_actions: [], scope: 'fuzz' },
      provenance: 'USER_TRUSTED',
    },
    {
      kind: 'submitPlan',
      plan: {
        steps: stepPicks.map((pick) => ({
          action_id: allowed[pick % allowed.length]!,
          args: { path: '/w/a' },
        })),
      },
      provenance: 'USER_TRUSTED',
    },
    ...rest,
  ]);
