import type { ActionRequest, Decision, ProvenanceLabel } from '@ape/core';

/** One row of the golden table: (policy, request) → expected decision, rule ids and reason. */
export interface GoldenCase {
  readonly policy: string;
  readonly request: Partial<ActionRequest> & { readonly action: string };
  readonly decision: Decision;
  readonly rules: readonly string[];
  /** A substring the reason must contain. */
  readonly reason: string;
  /** The `code` of a fail-closed DENY, when one is expected. */
  readonly code?: string;
}

type Extra = Partial<ActionRequest>;

function row(
  policy: string,
  action: string,
  decision: Decision,
  rules: readonly string[],
  reason: string,
  extra: Extra = {},
): GoldenCase {
  return { policy, request: { ...extra, action }, decision, rules, reason };
}

const ALLOWED = 'is allowed by';
const DEFAULT = 'denied by default';
const ESCALATED = 'requires human approval';
const USER: Extra = { provenance: 'USER_TRUSTED' };
const SYSTEM: Extra = { provenance: 'SYSTEM_TRUSTED' };
const EXTERNAL: Extra = { provenance: 'EXTERNAL_UNTRUSTED' };
const args = (value: Record<string, unknown>, extra: Extra = USER): Extra => ({ ...extra, args: value });
const after = (previousAction: string, calls?: Record<string, number>): Extra => ({
  session: calls === undefined ? { id: 's1', previousAction } : { id: 's1', previousAction, calls },
});
const calls = (value: Record<string, unknown>): Extra => ({
  session: { id: 's1', calls: value as Record<string, number> },
});
const intent = (allowed: string[], forbidden: string[] = []): Extra => ({
  intent: { allowed_actions: allowed, forbidden_actions: forbidden },
});
const tenant = (id: string, extra: Extra = {}): Extra => ({ tenant: id, ...extra });
const usage = (value: Record<string, unknown>, callsToo?: Record<string, number>): Extra => ({
  session: {
    id: 's1',
    usage: value as Record<string, number>,
    ...(callsToo === undefined ? {} : { calls: callsToo }),
  },
});

const seed: GoldenCase[] = [
  row('seed', 'read_file', 'ALLOW', ['allowed_actions[0]'], `"read_file" ${ALLOWED} allowed_actions[0]`),
  row('seed', 'list_directory', 'ALLOW', ['allowed_actions[1]'], ALLOWED),
  row('seed', 'search_web', 'ALLOW', ['allowed_actions[2]'], ALLOWED),
  row('seed', 'read_file', 'ALLOW', ['allowed_actions[0]'], ALLOWED, EXTERNAL),
  row('seed', 'list_directory', 'ALLOW', ['allowed_actions[1]'], ALLOWED, SYSTEM),
  row('seed', 'search_web', 'ALLOW', ['allowed_actions[2]'], ALLOWED, EXTERNAL),
  row(
    'seed',
    'delete_file',
    'DENY',
    ['forbidden_actions[0]'],
    '"delete_file" is forbidden by forbidden_actions[0]',
  ),
  row('seed', 'execute_shell', 'DENY', ['forbidden_actions[1]'], 'forbidden by forbidden_actions[1]'),
  row('seed', 'delete_file', 'DENY', ['forbidden_actions[0]'], 'forbidden', SYSTEM),
  row('seed', 'send_email', 'ESCALATE', ['escalation_required[0]'], `"send_email" ${ESCALATED}`),
  row('seed', 'deploy_production', 'ESCALATE', ['escalation_required[1]'], ESCALATED),
  row('seed', 'send_email', 'ESCALATE', ['escalation_required[0]'], ESCALATED, EXTERNAL),
  row('seed', 'write_file', 'DENY', ['default'], `No rule allows "write_file"; ${DEFAULT}`),
  row('seed', 'unknown_tool', 'DENY', ['default'], DEFAULT),
  row('seed', 'READ_FILE', 'DENY', ['default'], DEFAULT),
  row('seed', 'read_file.x', 'DENY', ['default'], DEFAULT),
  row('seed', 'read_files', 'DENY', ['default'], DEFAULT),
  row('seed', 'read_file', 'ALLOW', ['allowed_actions[0]'], ALLOWED, intent(['read_file'])),
  row('seed', 'read_file', 'DENY', ['intent.allowed_actions'], 'outside intent', intent(['list_directory'])),
  row(
    'seed',
    'read_file',
    'DENY',
    ['intent.forbidden_actions'],
    'forbidden by intent',
    intent(['read_file'], ['read_file']),
  ),
  row('seed', 'send_email', 'ESCALATE', ['escalation_required[0]'], ESCALATED, intent(['send_email'])),
  row(
    'seed',
    'delete_file',
    'DENY',
    ['forbidden_actions[0]'],
    'forbidden by forbidden_actions[0]',
    intent(['delete_file']),
  ),
  row(
    'seed',
    'delete_file',
    'DENY',
    ['intent.allowed_actions', 'forbidden_actions[0]'],
    'outside intent',
    intent([]),
  ),
  row('seed', 'unknown_tool', 'DENY', ['default'], DEFAULT, intent(['unknown_tool'])),
  row(
    'seed',
    'write_file',
    'DENY',
    ['intent.forbidden_actions', 'intent.allowed_actions'],
    'forbidden by intent',
    intent(['read_file'], ['write_file']),
  ),
  row('seed', 'read_file', 'ALLOW', ['allowed_actions[0]'], ALLOWED, tenant('someone-else')),
  { ...row('seed', '', 'DENY', ['request'], 'no valid action id'), code: 'ACTION_INVALID' },
  { ...row('seed', '../read_file', 'DENY', ['request'], 'no valid action id'), code: 'ACTION_INVALID' },
  {
    ...row('seed', 'read_file', 'DENY', ['request'], 'not an object', {
      args: [] as unknown as Record<string, unknown>,
    }),
    code: 'ACTION_INVALID',
  },
];

const globs: GoldenCase[] = [
  row('globs', 'fs.read', 'ALLOW', ['allowed_actions[0]'], ALLOWED),
  row('globs', 'fs.write', 'ALLOW', ['allowed_actions[0]'], ALLOWED),
  row('globs', 'fs.', 'ALLOW', ['allowed_actions[0]'], ALLOWED),
  row('globs', 'fs.a.b', 'DENY', ['default'], DEFAULT),
  row('globs', 'fs', 'DENY', ['default'], DEFAULT),
  row('globs', 'fs.secret', 'DENY', ['forbidden_actions[0]'], 'forbidden by forbidden_actions[0]'),
  row('globs', 'fs.secrets', 'DENY', ['forbidden_actions[0]'], 'forbidden'),
  row('globs', 'fs.secret_file', 'DENY', ['forbidden_actions[0]'], 'forbidden'),
  row('globs', 'read_file', 'ALLOW', ['allowed_actions[1]'], ALLOWED),
  row('globs', '_file', 'ALLOW', ['allowed_actions[1]'], ALLOWED),
  row('globs', 'a.read_file', 'DENY', ['default'], DEFAULT),
  row('globs', 'read_file_', 'DENY', ['default'], DEFAULT),
  row('globs', 'net.http', 'ALLOW', ['allowed_actions[2]'], ALLOWED),
  row('globs', 'net.http.get', 'ALLOW', ['allowed_actions[2]'], ALLOWED),
  row('globs', 'net.admin', 'ALLOW', ['allowed_actions[2]'], ALLOWED),
  row('globs', 'net.admin.users', 'DENY', ['forbidden_actions[1]'], 'forbidden by forbidden_actions[1]'),
  row('globs', 'net.admin.users.delete', 'DENY', ['forbidden_actions[1]'], 'forbidden'),
  row('globs', 'net', 'DENY', ['default'], DEFAULT),
  row('globs', 'mail.send', 'ESCALATE', ['escalation_required[0]'], ESCALATED),
  row('globs', 'mail.send.now', 'DENY', ['default'], DEFAULT),
  row('globs', 'mailbox', 'DENY', ['default'], DEFAULT),
  row('globs', 'x_file', 'ALLOW', ['allowed_actions[1]'], ALLOWED),
];

const precedence: GoldenCase[] = [];
const expectations: Record<string, [Decision, string[], string]> = {
  a: ['ALLOW', ['allow-a'], '"a" is allowed by allow-a'],
  d: ['DENY', ['deny-d'], 'Denied by deny-d: D is dangerous.'],
  e: ['ESCALATE', ['escalate-e'], '"e" requires human approval (escalate-e)'],
  ad: ['DENY', ['deny-d'], 'D is dangerous'],
  ae: ['ESCALATE', ['escalate-e'], ESCALATED],
  de: ['DENY', ['deny-d'], 'D is dangerous'],
  ade: ['DENY', ['deny-d'], 'D is dangerous'],
  z: ['DENY', ['default'], DEFAULT],
};
for (const provenance of [USER, SYSTEM, EXTERNAL]) {
  for (const [action, [decision, rules, reason]] of Object.entries(expectations)) {
    precedence.push(row('precedence', action, decision, rules, reason, provenance));
  }
}
precedence.push(
  row('precedence', 'c', 'ALLOW', ['cond-allow'], 'allowed by cond-allow', USER),
  row('precedence', 'c', 'DENY', ['cond-deny'], 'denied by rule cond-deny', EXTERNAL),
  row('precedence', 'c', 'ESCALATE', ['cond-escalate'], ESCALATED, SYSTEM),
  row('precedence', 'c', 'DENY', ['cond-deny'], 'cond-deny', {
    provenance: 'UNKNOWN_LABEL' as 'USER_TRUSTED',
  }),
  row('precedence', 'cd', 'ALLOW', ['cond-allow'], ALLOWED, args({})),
  row('precedence', 'cd', 'DENY', ['deny-cd'], 'denied by rule deny-cd', args({ force: true })),
  row('precedence', 'cd', 'DENY', ['cond-deny'], 'cond-deny', args({}, EXTERNAL)),
  row('precedence', 'cd', 'DENY', ['cond-deny', 'deny-cd'], 'cond-deny', args({ force: 1 }, EXTERNAL)),
  row('precedence', 'cd', 'DENY', ['default'], 'conditions of cond-allow not met', args({}, SYSTEM)),
  row('precedence', 'cd', 'DENY', ['deny-cd'], 'deny-cd', args({ force: false }, SYSTEM)),
);

const inWorkspace = (path: unknown, extra: Extra = USER): Extra => args({ path, content: 'x' }, extra);
const conditions: GoldenCase[] = [
  row('conditions', 'write_file', 'ALLOW', ['write-workspace'], ALLOWED, inWorkspace('/workspace/a.txt')),
  row('conditions', 'write_file', 'ALLOW', ['write-workspace'], ALLOWED, inWorkspace('/workspace', SYSTEM)),
  row('conditions', 'write_file', 'ALLOW', ['write-workspace'], ALLOWED, inWorkspace('/workspace/')),
  row('conditions', 'write_file', 'ALLOW', ['write-workspace'], ALLOWED, inWorkspace('/workspace//a//b')),
  row('conditions', 'write_file', 'ALLOW', ['write-workspace'], ALLOWED, inWorkspace('/workspace/./a')),
  row('conditions', 'write_file', 'ALLOW', ['write-workspace'], ALLOWED, inWorkspace('/workspace/a/../b')),
  row(
    'conditions',
    'write_file',
    'ALLOW',
    ['write-workspace'],
    ALLOWED,
    inWorkspace('/workspace/a/b/c/../../d.txt'),
  ),
  row(
    'conditions',
    'write_file',
    'DENY',
    ['default'],
    'write-workspace not met',
    inWorkspace('/workspace/../etc/passwd'),
  ),
  row('conditions', 'write_file', 'DENY', ['default'], DEFAULT, inWorkspace('/workspace/a/../../etc/passwd')),
  row('conditions', 'write_file', 'DENY', ['default'], DEFAULT, inWorkspace('/workspace2/x')),
  row('conditions', 'write_file', 'DENY', ['default'], DEFAULT, inWorkspace('/workspacex')),
  row('conditions', 'write_file', 'DENY', ['default'], DEFAULT, inWorkspace('/etc/passwd')),
  row('conditions', 'write_file', 'DENY', ['default'], DEFAULT, inWorkspace('/')),
  row('conditions', 'write_file', 'DENY', ['default'], DEFAULT, inWorkspace('a.txt')),
  row('conditions', 'write_file', 'DENY', ['default'], DEFAULT, inWorkspace('/workspace/a\u0000.txt')),
  row('conditions', 'write_file', 'DENY', ['default'], DEFAULT, inWorkspace('/workspace/%2e%2e/etc')),
  row('conditions', 'write_file', 'DENY', ['default'], DEFAULT, inWorkspace('/workspace/..%2Fetc')),
  row('conditions', 'write_file', 'DENY', ['default'], DEFAULT, inWorkspace('/workspace\\..\\etc')),
  row('conditions', 'write_file', 'DENY', ['default'], DEFAULT, inWorkspace('')),
  row('conditions', 'write_file', 'DENY', ['default'], DEFAULT, inWorkspace(42)),
  row('conditions', 'write_file', 'DENY', ['default'], DEFAULT, inWorkspace(['/workspace/a'])),
  row(
    'conditions',
    'write_file',
    'DENY',
    ['default'],
    'write-workspace not met',
    args({ content: 'no path' }),
  ),
  row(
    'conditions',
    'write_file',
    'ESCALATE',
    ['untrusted-write'],
    'Untrusted content needs review',
    inWorkspace('/workspace/a', EXTERNAL),
  ),
  row(
    'conditions',
    'write_file',
    'ESCALATE',
    ['untrusted-write'],
    'Human approval required by untrusted-write',
    inWorkspace('/etc/x', EXTERNAL),
  ),
  row('conditions', 'read_file', 'ALLOW', ['relative-read'], ALLOWED, args({ path: 'notes/a.md' })),
  row('conditions', 'read_file', 'ALLOW', ['relative-read'], ALLOWED, args({ path: '/workspace/notes' })),
  row('conditions', 'read_file', 'ALLOW', ['relative-read'], ALLOWED, args({ path: './notes/../b.md' })),
  row(
    'conditions',
    'read_file',
    'ALLOW',
    ['relative-read'],
    ALLOWED,
    args({ path: '/workspace/.gitignore' }),
  ),
  row('conditions', 'read_file', 'DENY', ['default'], DEFAULT, args({ path: '../etc/passwd' })),
  row('conditions', 'read_file', 'DENY', ['default'], DEFAULT, args({ path: '.git/config' })),
  row('conditions', 'read_file', 'DENY', ['default'], DEFAULT, args({ path: '/workspace/.git' })),
  row('conditions', 'read_file', 'DENY', ['default'], DEFAULT, args({ path: '/workspace/x/../.git/HEAD' })),
  row('conditions', 'read_file', 'DENY', ['default'], DEFAULT, args({ path: '' })),
  row(
    'conditions',
    'fetch_url',
    'ALLOW',
    ['fetch-allowlist'],
    ALLOWED,
    args({ url: 'https://example.com/x' }),
  ),
  row(
    'conditions',
    'fetch_url',
    'ALLOW',
    ['fetch-allowlist'],
    ALLOWED,
    args({ url: 'https://EXAMPLE.com/x' }),
  ),
  row('conditions', 'fetch_url', 'ALLOW', ['fetch-allowlist'], ALLOWED, args({ url: 'HTTPS://example.com' })),
  row(
    'conditions',
    'fetch_url',
    'ALLOW',
    ['fetch-allowlist'],
    ALLOWED,
    args({ url: 'https://a.example.org' }),
  ),
  row(
    'conditions',
    'fetch_url',
    'ALLOW',
    ['fetch-allowlist'],
    ALLOWED,
    args({ url: 'https://a.b.example.org/p?q=1' }),
  ),
  row(
    'conditions',
    'fetch_url',
    'ALLOW',
    ['fetch-allowlist'],
    ALLOWED,
    args({ url: 'https://example.com./x' }),
  ),
  row('conditions', 'fetch_url', 'DENY', ['default'], DEFAULT, args({ url: 'https://example.org' })),
  row('conditions', 'fetch_url', 'DENY', ['default'], DEFAULT, args({ url: 'http://example.com' })),
  row('conditions', 'fetch_url', 'DENY', ['default'], DEFAULT, args({ url: 'https://user:pw@example.com' })),
  row('conditions', 'fetch_url', 'DENY', ['default'], DEFAULT, args({ url: 'https://example.com@evil.net' })),
  row('conditions', 'fetch_url', 'DENY', ['default'], DEFAULT, args({ url: 'https://example.com.evil.net' })),
  row(
    'conditions',
    'fetch_url',
    'DENY',
    ['default'],
    DEFAULT,
    args({ url: 'https://evil.net/?q=example.com' }),
  ),
  row('conditions', 'fetch_url', 'DENY', ['default'], DEFAULT, args({ url: 'https://notexample.com' })),
  row(
    'conditions',
    'fetch_url',
    'DENY',
    ['default'],
    DEFAULT,
    args({ url: 'https://example.com\\@evil.net' }),
  ),
  row('conditions', 'fetch_url', 'DENY', ['default'], DEFAULT, args({ url: 'not a url' })),
  row('conditions', 'fetch_url', 'DENY', ['default'], DEFAULT, args({ url: 'javascript:alert(1)' })),
  row('conditions', 'fetch_url', 'DENY', ['default'], DEFAULT, args({})),
  row('conditions', 'send_message', 'ALLOW', ['small-messages'], ALLOWED, args({ to: 'alice', body: 'hi' })),
  row('conditions', 'send_message', 'DENY', ['default'], DEFAULT, args({ to: 'carol', body: 'hi' })),
  row('conditions', 'send_message', 'DENY', ['default'], DEFAULT, args({ to: 'bob', body: 'x'.repeat(21) })),
  row('conditions', 'send_message', 'DENY', ['default'], DEFAULT, args({ to: 'bob', body: 'hi', cc: 'eve' })),
  row('conditions', 'send_message', 'DENY', ['default'], DEFAULT, args({ to: 'bob' })),
  row(
    'conditions',
    'git_push',
    'DENY',
    ['no-prod-branch'],
    'Denied by no-prod-branch: Pushing to main is not allowed.',
    args({ branch: 'main' }),
  ),
  row('conditions', 'git_push', 'ALLOW', ['push-any'], ALLOWED, args({ branch: 'dev' })),
  row('conditions', 'git_push', 'ALLOW', ['push-any'], ALLOWED, args({})),
  row('conditions', 'close_ticket', 'ALLOW', ['ticket-pattern'], ALLOWED, args({ id: 'T-123' })),
  row('conditions', 'close_ticket', 'DENY', ['default'], DEFAULT, args({ id: 'T-1234567' })),
  row('conditions', 'close_ticket', 'DENY', ['default'], DEFAULT, args({ id: 'X-1' })),
];

const session: GoldenCase[] = [
  row('session', 'read_file', 'ALLOW', ['allowed_actions[0]'], ALLOWED),
  row('session', 'summarise', 'ALLOW', ['allowed_actions[2]'], ALLOWED, after('read_file')),
  row('session', 'read_file', 'ALLOW', ['allowed_actions[0]'], ALLOWED, after('read_file')),
  row(
    'session',
    'write_file',
    'DENY',
    ['tool_transitions.read_file', 'limits[2]'],
    '"write_file" may not follow "read_file"',
    after('read_file'),
  ),
  row(
    'session',
    'send_email',
    'DENY',
    ['tool_transitions.read_file'],
    'may not follow "read_file" (tool_transitions.read_file)',
    after('read_file'),
  ),
  row('session', 'summarise', 'ALLOW', ['allowed_actions[2]'], ALLOWED, after('http.get')),
  row(
    'session',
    'read_file',
    'DENY',
    ['tool_transitions.http.*'],
    'may not follow "http.get"',
    after('http.get'),
  ),
  row(
    'session',
    'http.get',
    'DENY',
    ['tool_transitions.http.*'],
    'may not follow "http.post"',
    after('http.post'),
  ),
  row(
    'session',
    'read_file',
    'DENY',
    ['tool_transitions.send_email'],
    'may not follow "send_email"',
    after('send_email'),
  ),
  row('session', 'summarise', 'DENY', ['tool_transitions.send_email'], 'may not follow', after('send_email')),
  row('session', 'read_file', 'ALLOW', ['allowed_actions[0]'], ALLOWED, after('summarise')),
  row('session', 'read_file', 'ALLOW', ['allowed_actions[0]'], ALLOWED, after('unknown_tool')),
  row('session', 'http.get', 'ALLOW', ['allowed_actions[4]'], ALLOWED, calls({})),
  row('session', 'http.get', 'ALLOW', ['allowed_actions[4]'], ALLOWED, calls({ 'http.get': 2 })),
  row(
    'session',
    'http.get',
    'DENY',
    ['limits[0]'],
    'The session has used 3 of the 3 calls limit limits[0] allows',
    calls({ 'http.get': 3 }),
  ),
  row('session', 'http.get', 'DENY', ['limits[0]'], 'limits[0]', calls({ 'http.get': 1, 'http.post': 2 })),
  row(
    'session',
    'http.post',
    'ALLOW',
    ['allowed_actions[5]'],
    ALLOWED,
    calls({ 'http.get': 2, read_file: 10 }),
  ),
  row(
    'session',
    'send_email',
    'DENY',
    ['email-budget'],
    'Denied by limit email-budget: One e-mail per session.',
    calls({ send_email: 1 }),
  ),
  row('session', 'send_email', 'ALLOW', ['allowed_actions[3]'], ALLOWED, calls({ send_email: 0 })),
  row('session', 'write_file', 'DENY', ['limits[2]'], 'limits[2]'),
  row('session', 'http.get', 'DENY', ['limits[0]'], 'an invalid number of', calls({ 'http.get': -1 })),
  row('session', 'http.get', 'DENY', ['limits[0]'], 'an invalid number of', calls({ 'http.get': '2' })),
  row(
    'session',
    'http.get',
    'DENY',
    ['limits[0]'],
    'an invalid number of',
    calls({ 'http.get': Number.NaN }),
  ),
  row('session', 'read_file', 'ALLOW', ['allowed_actions[0]'], ALLOWED, calls({ 'http.get': 100 })),
  row(
    'session',
    'http.get',
    'DENY',
    ['tool_transitions.read_file'],
    'may not follow',
    after('read_file', { 'http.get': 0 }),
  ),
];

const tenants: GoldenCase[] = [
  row('tenants', 'read_file', 'ALLOW', ['allowed_actions[0]'], ALLOWED, tenant('other')),
  row('tenants', 'write_file', 'ALLOW', ['allowed_actions[1]'], ALLOWED, tenant('other')),
  row('tenants', 'send_email', 'ALLOW', ['allowed_actions[3]'], ALLOWED, tenant('other')),
  row('tenants', 'delete_file', 'DENY', ['forbidden_actions[0]'], 'forbidden', tenant('other')),
  row('tenants', 'read_file', 'ALLOW', ['allowed_actions[0]'], ALLOWED, tenant('')),
  row('tenants', 'read_file', 'ALLOW', ['allowed_actions[0]'], ALLOWED, tenant('__proto__')),
  row('tenants', 'read_file', 'ALLOW', ['allowed_actions[0]'], ALLOWED, tenant('bank')),
  row('tenants', 'read_file', 'DENY', ['bank-reads'], 'bank-reads', tenant('bank', calls({ read_file: 2 }))),
  row(
    'tenants',
    'send_email',
    'DENY',
    ['tenants.bank.forbidden_actions[0]'],
    'forbidden by tenants.bank.forbidden_actions[0]',
    tenant('bank'),
  ),
  row('tenants', 'write_file', 'ESCALATE', ['bank-review-writes'], ESCALATED, tenant('bank')),
  row('tenants', 'delete_file', 'DENY', ['forbidden_actions[0]'], 'forbidden', tenant('bank')),
  row('tenants', 'fetch_url', 'ALLOW', ['allowed_actions[2]'], ALLOWED, tenant('bank')),
  row('tenants', 'read_file', 'ALLOW', ['allowed_actions[0]'], ALLOWED, tenant('trial')),
  row(
    'tenants',
    'write_file',
    'DENY',
    ['tenants.trial.allowed_actions'],
    'Tenant "trial" may not use "write_file"',
    tenant('trial'),
  ),
  row('tenants', 'fetch_url', 'DENY', ['tenants.trial.allowed_actions'], 'may not use', tenant('trial')),
  row('tenants', 'send_email', 'DENY', ['tenants.trial.allowed_actions'], 'may not use', tenant('trial')),
  row(
    'tenants',
    'delete_file',
    'DENY',
    ['tenants.trial.allowed_actions', 'forbidden_actions[0]'],
    'may not use',
    tenant('trial'),
  ),
  row('tenants', 'unknown_tool', 'DENY', ['tenants.trial.allowed_actions'], 'may not use', tenant('trial')),
  row('tenants', 'read_file', 'ALLOW', ['allowed_actions[0]'], ALLOWED, tenant('strict', USER)),
  row(
    'tenants',
    'read_file',
    'DENY',
    ['strict-no-untrusted'],
    'strict-no-untrusted',
    tenant('strict', EXTERNAL),
  ),
  row(
    'tenants',
    'write_file',
    'DENY',
    ['tenants.strict.tool_transitions.read_file'],
    'may not follow',
    tenant('strict', after('read_file')),
  ),
  row('tenants', 'write_file', 'ALLOW', ['allowed_actions[1]'], ALLOWED, tenant('other', after('read_file'))),
  row('tenants', 'fetch_url', 'ALLOW', ['allowed_actions[2]'], ALLOWED, tenant('strict', USER)),
  row(
    'tenants',
    'delete_file',
    'DENY',
    ['forbidden_actions[0]', 'strict-no-untrusted'],
    'forbidden',
    tenant('strict', EXTERNAL),
  ),
];

const budgets: GoldenCase[] = [
  row('budgets', 'read_file', 'ALLOW', ['allowed_actions[0]'], ALLOWED),
  row('budgets', 'read_file', 'ALLOW', ['allowed_actions[0]'], ALLOWED, calls({ read_file: 1 })),
  row(
    'budgets',
    'read_file',
    'DENY',
    ['reads'],
    'The session has used 2 of the 2 calls limit reads',
    calls({ read_file: 2 }),
  ),
  // A windowed or lineage limit is not judged from session.calls: the runtime's usage store counts it.
  row('budgets', 'search_web', 'ALLOW', ['allowed_actions[1]'], ALLOWED, calls({ search_web: 1000 })),
  row('budgets', 'http.get', 'ALLOW', ['allowed_actions[3]'], ALLOWED, calls({ 'http.get': 1000 })),
  row(
    'budgets',
    'send_email',
    'DENY',
    ['no-mail'],
    'The session has used 0 of the 0 calls limit no-mail allows in the last 30s',
  ),
  row('budgets', 'send_email', 'DENY', ['no-mail'], 'no-mail', usage({})),
  row(
    'budgets',
    'read_file',
    'ALLOW',
    ['allowed_actions[0]'],
    ALLOWED,
    usage({ reads: 1, 'reads-hourly': 4 }),
  ),
  row(
    'budgets',
    'read_file',
    'DENY',
    ['reads-hourly'],
    'The lineage has used 5 of the 5 calls limit reads-hourly allows in the last 1h',
    usage({ 'reads-hourly': 5 }),
  ),
  row(
    'budgets',
    'read_file',
    'DENY',
    ['reads', 'reads-hourly'],
    'limit reads',
    usage({ reads: 2, 'reads-hourly': 9 }),
  ),
  // With usage, session.calls is not read at all.
  row('budgets', 'read_file', 'ALLOW', ['allowed_actions[0]'], ALLOWED, usage({}, { read_file: 50 })),
  row(
    'budgets',
    'search_web',
    'DENY',
    ['searches-daily'],
    'The tenant has used 100 of the 100 calls',
    usage({ 'searches-daily': 100 }),
  ),
  row(
    'budgets',
    'search_web',
    'DENY',
    ['searches-daily'],
    'an invalid number of',
    usage({ 'searches-daily': -1 }),
  ),
  row(
    'budgets',
    'http.get',
    'ALLOW',
    ['allowed_actions[3]'],
    ALLOWED,
    tenant('trial', usage({ 'trial-http': 0 })),
  ),
  row(
    'budgets',
    'http.get',
    'DENY',
    ['trial-http'],
    'The tenant has used 1 of the 1 call limit trial-http',
    tenant('trial', usage({ 'trial-http': 1 })),
  ),
  // A tenant-scoped limit, even without a window, is not judged from one session's calls.
  row(
    'budgets',
    'http.get',
    'ALLOW',
    ['allowed_actions[3]'],
    ALLOWED,
    tenant('trial', calls({ 'http.get': 1 })),
  ),
  row(
    'budgets',
    'http.get',
    'ALLOW',
    ['allowed_actions[3]'],
    ALLOWED,
    tenant('other', usage({ 'trial-http': 9 })),
  ),
];

// Per-argument provenance (x-ape-provenance): `labels` sets ActionRequest.argLabels.
const labels = (
  value: Record<string, unknown>,
  map: Record<string, ProvenanceLabel> | undefined,
  provenance: ProvenanceLabel = 'EXTERNAL_UNTRUSTED',
): Extra => ({
  args: value,
  provenance,
  ...(map === undefined ? {} : { argLabels: Object.freeze(Object.assign(Object.create(null), map)) }),
});
const MAIL = { to: 'boss@example.com', body: 'summary' };
const perArgument: GoldenCase[] = [
  row(
    'per_argument',
    'send_email',
    'ALLOW',
    ['mail-to-trusted-recipients'],
    ALLOWED,
    labels(MAIL, { '/to': 'USER_TRUSTED', '/body': 'EXTERNAL_UNTRUSTED' }),
  ),
  row(
    'per_argument',
    'send_email',
    'ESCALATE',
    ['untrusted-recipient'],
    'recipient came from untrusted data',
    labels(MAIL, { '/to': 'EXTERNAL_UNTRUSTED', '/body': 'EXTERNAL_UNTRUSTED' }),
  ),
  // An absent property does not satisfy x-ape-provenance.
  row(
    'per_argument',
    'send_email',
    'DENY',
    ['default'],
    DEFAULT,
    labels({ body: 'summary' }, { '/body': 'USER_TRUSTED' }, 'USER_TRUSTED'),
  ),
  // Without a label map every leaf is judged by the call's label: as before.
  row(
    'per_argument',
    'send_email',
    'ESCALATE',
    ['untrusted-recipient'],
    'untrusted data',
    labels(MAIL, undefined),
  ),
  row(
    'per_argument',
    'send_email',
    'ALLOW',
    ['mail-to-trusted-recipients'],
    ALLOWED,
    labels(MAIL, undefined, 'USER_TRUSTED'),
  ),
  // A leaf the map does not name takes the call's label, never more.
  row(
    'per_argument',
    'send_email',
    'ESCALATE',
    ['untrusted-recipient'],
    'untrusted data',
    labels(MAIL, { '/body': 'USER_TRUSTED' }),
  ),
  row(
    'per_argument',
    'send_email',
    'ALLOW',
    ['mail-to-trusted-recipients'],
    ALLOWED,
    labels(MAIL, { '/to': 'SYSTEM_TRUSTED' }),
  ),
  // A property named like a pointer is the pointer /~1to, not /to.
  row(
    'per_argument',
    'send_email',
    'ESCALATE',
    ['untrusted-recipient'],
    'untrusted data',
    labels({ to: 'evil@example.com', '/to': 'x' }, { '/to': 'EXTERNAL_UNTRUSTED', '/~1to': 'USER_TRUSTED' }),
  ),
  // Inside arrays: every item of cc must be trusted.
  row(
    'per_argument',
    'send_email',
    'ALLOW',
    ['mail-to-trusted-recipients'],
    ALLOWED,
    labels(
      { ...MAIL, cc: ['a@example.com', 'b@example.com'] },
      { '/to': 'USER_TRUSTED', '/cc/0': 'USER_TRUSTED', '/cc/1': 'SYSTEM_TRUSTED' },
    ),
  ),
  row(
    'per_argument',
    'send_email',
    'DENY',
    ['default'],
    'conditions of mail-to-trusted-recipients',
    labels(
      { ...MAIL, cc: ['a@example.com', 'b@example.com'] },
      { '/to': 'USER_TRUSTED', '/cc/0': 'USER_TRUSTED', '/cc/1': 'EXTERNAL_UNTRUSTED' },
    ),
  ),
  // Inside anyOf: an untrusted URL passes only for the documented host.
  row(
    'per_argument',
    'http.get',
    'ALLOW',
    ['fetch-trusted-or-docs'],
    ALLOWED,
    labels({ url: 'https://docs.example.com/a' }, { '/url': 'EXTERNAL_UNTRUSTED' }),
  ),
  row(
    'per_argument',
    'http.get',
    'DENY',
    ['default'],
    DEFAULT,
    labels({ url: 'https://evil.example/a' }, { '/url': 'EXTERNAL_UNTRUSTED' }),
  ),
  row(
    'per_argument',
    'http.get',
    'ALLOW',
    ['fetch-trusted-or-docs'],
    ALLOWED,
    labels({ url: 'https://evil.example/a' }, { '/url': 'USER_TRUSTED' }),
  ),
  // Under not: a deny rule that holds unless the IBAN is user-provided (absent counts as not).
  row(
    'per_argument',
    'transfer',
    'ALLOW',
    ['transfers'],
    ALLOWED,
    labels({ iban: 'DE00', memo: 'x' }, { '/iban': 'USER_TRUSTED', '/memo': 'EXTERNAL_UNTRUSTED' }),
  ),
  row(
    'per_argument',
    'transfer',
    'DENY',
    ['iban-from-the-user'],
    'The IBAN must come from the user',
    labels({ iban: 'DE00', memo: 'x' }, { '/iban': 'EXTERNAL_UNTRUSTED', '/memo': 'USER_TRUSTED' }),
  ),
  row(
    'per_argument',
    'transfer',
    'DENY',
    ['iban-from-the-user'],
    'The IBAN must come from the user',
    labels({ memo: 'x' }, { '/memo': 'USER_TRUSTED' }, 'USER_TRUSTED'),
  ),
  // Nested: message.to must be present and user-provided; its sibling may be anything.
  row(
    'per_argument',
    'post',
    'ALLOW',
    ['post-nested'],
    ALLOWED,
    labels(
      { message: { to: 'a', text: 'b' } },
      { '/message/to': 'USER_TRUSTED', '/message/text': 'EXTERNAL_UNTRUSTED' },
    ),
  ),
  row(
    'per_argument',
    'post',
    'DENY',
    ['default'],
    DEFAULT,
    labels({ message: { text: 'b' } }, { '/message/text': 'USER_TRUSTED' }, 'USER_TRUSTED'),
  ),
  row(
    'per_argument',
    'post',
    'DENY',
    ['default'],
    DEFAULT,
    labels({ message: { to: 'a' } }, { '/message/to': 'SYSTEM_TRUSTED' }),
  ),
  // On the root schema: every leaf of the call.
  row(
    'per_argument',
    'note',
    'ALLOW',
    ['note-all-trusted'],
    ALLOWED,
    labels(
      { a: 1, b: [true, null] },
      { '/a': 'USER_TRUSTED', '/b/0': 'USER_TRUSTED', '/b/1': 'SYSTEM_TRUSTED' },
    ),
  ),
  row(
    'per_argument',
    'note',
    'DENY',
    ['default'],
    DEFAULT,
    labels({ a: 1, b: [true, null] }, { '/a': 'USER_TRUSTED', '/b/0': 'USER_TRUSTED' }),
  ),
  // A malformed label map fails closed.
  row('per_argument', 'send_email', 'DENY', ['default'], DEFAULT, {
    ...labels(MAIL, undefined, 'USER_TRUSTED'),
    argLabels: 'USER_TRUSTED' as unknown as Record<string, ProvenanceLabel>,
  }),
];

/** Every golden case. */
export const GOLDEN_CASES: readonly GoldenCase[] = [
  ...seed,
  ...globs,
  ...precedence,
  ...conditions,
  ...session,
  ...tenants,
  ...budgets,
  ...perArgument,
];
