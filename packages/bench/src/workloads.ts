import type { ActionRequest, Decision } from '@ape/core';

/**
 * The policies every engine is asked about, written once here so the encodings stay equivalent.
 * An APE decision has three outcomes; Cedar has two (escalation is a `permit` annotated
 * `@ape("escalate")`, mapped by the host from the determining policies) and casbin two (escalation
 * entries are not `allow`, so they come out as `false`).
 */

/** The three-list policy of case 1 (the seed's example policy). */
export const THREE_LIST = {
  allowed: ['read_file', 'list_directory', 'search_web'],
  forbidden: ['delete_file', 'execute_shell'],
  escalation: ['send_email', 'deploy_production'],
} as const;

/** The actions case 1 cycles through: allowed, forbidden, escalated, unknown (default deny). */
export const THREE_LIST_ACTIONS = ['read_file', 'delete_file', 'send_email', 'unknown_tool'] as const;

/** The expected APE decision for each of {@link THREE_LIST_ACTIONS}. */
export const THREE_LIST_EXPECTED: readonly Decision[] = ['ALLOW', 'DENY', 'ESCALATE', 'DENY'];

/** The APE document of case 1. */
export function threeListDocument(): Record<string, unknown> {
  return {
    version: 1,
    name: 'three-list',
    allowed_actions: [...THREE_LIST.allowed],
    forbidden_actions: [...THREE_LIST.forbidden],
    escalation_required: [...THREE_LIST.escalation],
  };
}

/** A request as the runtime builds it, without session context. */
export function request(action: string, args: Readonly<Record<string, unknown>> = {}): ActionRequest {
  return Object.freeze({ tenant: 'bench', action, args: Object.freeze(args), provenance: 'USER_TRUSTED' });
}

/** The workspace root of case 2 and the paths asked about (inside, outside). */
export const WORKSPACE = '/workspace';
export const CONDITION_PATHS = ['/workspace/src/index.ts', '/etc/passwd'] as const;

/** The APE document of case 2: `write_file` allowed only inside the workspace, as a regex or a path check. */
export function argumentConditionDocument(kind: 'pattern' | 'path'): Record<string, unknown> {
  const path =
    kind === 'pattern'
      ? { type: 'string', pattern: `^${WORKSPACE}/` }
      : { type: 'string', 'x-ape-path': { roots: [WORKSPACE] } };
  return {
    version: 1,
    name: `argument-${kind}`,
    rules: [
      {
        id: 'write-inside-workspace',
        actions: ['write_file'],
        effect: 'allow',
        when: { args: { type: 'object', required: ['path'], properties: { path } } },
      },
    ],
  };
}

/** Sizes of the scaling cases (exact rules; every size also has {@link GLOB_COUNT} globs). */
export const SCALE_SIZES = [10, 100, 1_000, 10_000, 100_000] as const;

/** Globs added to every scaling policy. */
export const GLOB_COUNT = 100;

/** What the effect of exact rule `index` is: one in ten forbidden, one in ten escalated, the rest allowed. */
export function exactEffect(index: number): 'allow' | 'deny' | 'escalate' {
  const slot = index % 10;
  return slot === 0 ? 'deny' : slot === 1 ? 'escalate' : 'allow';
}

/** What the effect of glob `index` is: one in four forbidden, one in four escalated, the rest allowed. */
export function globEffect(index: number): 'allow' | 'deny' | 'escalate' {
  const slot = index % 4;
  return slot === 0 ? 'deny' : slot === 1 ? 'escalate' : 'allow';
}

/** Exact action id number `index`. */
export function exactAction(index: number): string {
  return `tool.${index}`;
}

/** Glob number `index` (matches `ns<index>.<anything without a dot>`). */
export function globPattern(index: number): string {
  return `ns${index}.*`;
}

/** The action the scaling decision asks about: an allowed exact id in the middle of the list. */
export function scaleProbeAction(size: number): string {
  let index = Math.floor(size / 2);
  while (exactEffect(index) !== 'allow') index++;
  return exactAction(index);
}

/** The three lists of the APE scaling document: exact ids first, then the globs, by effect. */
function scaleLists(size: number): Record<'allow' | 'deny' | 'escalate', string[]> {
  const lists: Record<'allow' | 'deny' | 'escalate', string[]> = { allow: [], deny: [], escalate: [] };
  for (let index = 0; index < size; index++) lists[exactEffect(index)].push(exactAction(index));
  for (let index = 0; index < GLOB_COUNT; index++) lists[globEffect(index)].push(globPattern(index));
  return lists;
}

/** The APE scaling document as JSON text, indented by two spaces (the same document as {@link scaleYaml}). */
export function scaleJson(size: number): string {
  const lists = scaleLists(size);
  const document = {
    version: 1,
    name: `scale-${size}`,
    allowed_actions: lists.allow,
    forbidden_actions: lists.deny,
    escalation_required: lists.escalate,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** The APE scaling document as YAML text (the form a policy file has). */
export function scaleYaml(size: number): string {
  const lists = scaleLists(size);
  const block = (key: string, items: readonly string[]): string =>
    `${key}:\n${items.map((item) => `  - "${item}"`).join('\n')}\n`;
  return [
    'version: 1\n',
    `name: scale-${size}\n`,
    block('allowed_actions', lists.allow),
    block('forbidden_actions', lists.deny),
    block('escalation_required', lists.escalate),
  ].join('');
}

/** Load limits large enough for the biggest scaling policy (the defaults stop at 10,000 rules). */
export const SCALE_LIMITS = Object.freeze({
  maxBytes: 64 * 1024 * 1024,
  maxKeysPerMapping: 1_000_000,
  maxNodes: 10_000_000,
  maxRules: 1_000_000,
});

/** A Cedar policy line for one exact rule. */
function cedarExact(action: string, effect: 'allow' | 'deny' | 'escalate'): string {
  const head = effect === 'deny' ? 'forbid' : 'permit';
  const annotation = effect === 'escalate' ? '@ape("escalate") ' : '';
  return `${annotation}${head}(principal, action == Action::"${action}", resource);`;
}

/** A Cedar policy line for one glob (the action name travels in `context.action`). */
function cedarGlob(pattern: string, effect: 'allow' | 'deny' | 'escalate'): string {
  const head = effect === 'deny' ? 'forbid' : 'permit';
  const annotation = effect === 'escalate' ? '@ape("escalate") ' : '';
  return `${annotation}${head}(principal, action, resource) when { context.action like "${pattern}" };`;
}

/** Cedar policies of case 1, one per list entry. */
export function threeListCedar(): string {
  return [
    ...THREE_LIST.allowed.map((action) => cedarExact(action, 'allow')),
    ...THREE_LIST.forbidden.map((action) => cedarExact(action, 'deny')),
    ...THREE_LIST.escalation.map((action) => cedarExact(action, 'escalate')),
  ].join('\n');
}

/** Cedar policies of case 2: the `when` clause equivalent of the APE condition. */
export function argumentConditionCedar(): string {
  return `permit(principal, action == Action::"write_file", resource) when { context.path like "${WORKSPACE}/*" };`;
}

/** Cedar policies of the scaling cases. */
export function scaleCedar(size: number): string {
  const lines: string[] = [];
  for (let index = 0; index < size; index++) lines.push(cedarExact(exactAction(index), exactEffect(index)));
  for (let index = 0; index < GLOB_COUNT; index++)
    lines.push(cedarGlob(globPattern(index), globEffect(index)));
  return lines.join('\n');
}

/** casbin model: exact ids by equality, globs with `globMatch`, deny overrides allow. */
export const CASBIN_ACTION_MODEL = `
[request_definition]
r = sub, act

[policy_definition]
p = sub, act, kind, eft

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = (p.kind == "exact" && r.act == p.act) || (p.kind == "glob" && globMatch(r.act, p.act))
`;

/** casbin model of case 2: the path prefix with `keyMatch`. */
export const CASBIN_PATH_MODEL = `
[request_definition]
r = sub, act, path

[policy_definition]
p = sub, act, path, eft

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = r.act == p.act && keyMatch(r.path, p.path)
`;

function casbinEffect(effect: 'allow' | 'deny' | 'escalate'): string {
  // casbin has no third outcome; an escalation entry is simply not an allow.
  return effect === 'deny' ? 'deny' : effect === 'escalate' ? 'escalate' : 'allow';
}

/** casbin policy lines (CSV) of case 1. */
export function threeListCasbin(): string {
  return [
    ...THREE_LIST.allowed.map((action) => `p, agent, ${action}, exact, allow`),
    ...THREE_LIST.forbidden.map((action) => `p, agent, ${action}, exact, deny`),
    ...THREE_LIST.escalation.map((action) => `p, agent, ${action}, exact, escalate`),
  ].join('\n');
}

/** casbin policy lines (CSV) of case 2. */
export function argumentConditionCasbin(): string {
  return `p, agent, write_file, ${WORKSPACE}/*, allow`;
}

/** casbin policy lines (CSV) of the scaling cases. */
export function scaleCasbin(size: number): string {
  const lines: string[] = [];
  for (let index = 0; index < size; index++) {
    lines.push(`p, agent, ${exactAction(index)}, exact, ${casbinEffect(exactEffect(index))}`);
  }
  for (let index = 0; index < GLOB_COUNT; index++) {
    lines.push(`p, agent, ${globPattern(index)}, glob, ${casbinEffect(globEffect(index))}`);
  }
  return lines.join('\n');
}
