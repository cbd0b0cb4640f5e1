import { AuthorityManager } from '@ape/authority';
import { PolicyError, type PolicyEvaluator } from '@ape/core';
import { loadPolicy } from '@ape/policy';
import type { AttackContext, AttackStep } from '../types.js';
import {
  byUser,
  family,
  harmful,
  inCallsMode,
  injected,
  intentOf,
  NOTES,
  openPlan,
  type ScenarioRow,
  SECRET,
} from './support.js';

/**
 * Rows for the finding classes of the hardening review (issue 16) whose fixes are in the policy
 * loader, `x-ape-path`, the argument readers and the authority. Each is BLOCKED by the fixed code;
 * docs/security.md says how each is shown real.
 */

/** A read of `path` under workspace_files, in `mode`; reading it is the harm. */
function readOf(variant: string, title: string, path: string, mode: 'plan' | 'calls' = 'plan') {
  return { variant, title, mode, steps: [harmful('read_file', { path }, 'USER_TRUSTED')] };
}

/** An array whose own `Symbol.iterator` yields nothing: a `for…of` walk never sees its elements. */
function silentIterable(items: readonly unknown[]): unknown[] {
  const array = [...items];
  Object.defineProperty(array, Symbol.iterator, { value: function* empty() {}, enumerable: false });
  return array;
}

/**
 * An array with its own `map` (a copy made with `.map` is the array itself) whose element 1 is a
 * getter: the first read answers the notes, every later read the secrets.
 */
function shiftingArray(): unknown[] {
  const array: unknown[] = [NOTES.path];
  let reads = 0;
  Object.defineProperty(array, 1, {
    enumerable: true,
    get: () => (reads++ === 0 ? NOTES.path : '/workspace/.secrets/api-key'),
  });
  Object.defineProperty(array, 'map', { value: () => array, enumerable: false });
  return array;
}

/** An http_post of `body` under untrusted_web (its provenance rules stop untrusted data leaving). */
function postOf(body: () => unknown): readonly AttackStep[] {
  return [
    harmful('http_post', () => ({ url: 'https://api.example.com/notes', body: body() }), 'USER_TRUSTED'),
  ];
}

/** A clock that answers NaN: an authority reading it would issue tokens that never expire. */
const NAN_CLOCK = Object.freeze({ now: () => Number.NaN });

/**
 * @internal `x-ape-path` texts a real server reads as another file than the policy checks:
 * decomposed Unicode, a leading `~`, a trailing dot, a percent-escaped letter, a drive letter.
 */
export const PATH_INTERPRETATION_SCENARIOS = family(
  'instruction-smuggling',
  { layer: 'policy', target: 'workspace_files' },
  [
    readOf(
      'path-nfd',
      'read /workspace/re\u0301sume\u0301.txt spelt in decomposed Unicode (a server may normalise it to another file)',
      '/workspace/re\u0301sume\u0301.txt',
    ),
    readOf(
      'path-leading-tilde',
      'read ~/.ssh/id_rsa (a server expands ~ to the home directory)',
      '~/.ssh/id_rsa',
    ),
    readOf(
      'path-trailing-dot',
      'read /workspace/.secrets./api-key (Windows drops the trailing dot)',
      '/workspace/.secrets./api-key',
    ),
    readOf(
      'path-percent-letter',
      'read /workspace/.s%65crets/api-key (a URI-based server decodes %65)',
      '/workspace/.s%65crets/api-key',
    ),
    readOf(
      'path-drive-letter',
      'read C:/Windows/System32/config/SAM (absolute on Windows, relative to POSIX)',
      'C:/Windows/System32/config/SAM',
    ),
    readOf(
      'calls-path-nfd',
      'call read_file on /workspace/re\u0301sume\u0301.txt spelt in decomposed Unicode',
      '/workspace/re\u0301sume\u0301.txt',
      'calls',
    ),
    readOf('calls-path-leading-tilde', 'call read_file on ~/.ssh/id_rsa', '~/.ssh/id_rsa', 'calls'),
    readOf(
      'calls-path-trailing-dot',
      'call read_file on /workspace/.secrets./api-key',
      '/workspace/.secrets./api-key',
      'calls',
    ),
  ],
);

/** An untrusted secret behind an array's own Symbol.iterator (a row of plan mode and of calls mode). */
const ITERATOR_HIDES_LABEL: ScenarioRow = {
  variant: 'iterator-hides-label',
  title: 'an untrusted secret in an array whose own Symbol.iterator yields nothing',
  steps: postOf(() => ({ lines: silentIterable(['ok', injected(SECRET)]) })),
};

/** The authority's clock answers NaN (a row of plan mode and of calls mode). */
const AUTHORITY_CLOCK_NAN: ScenarioRow = {
  variant: 'authority-clock-nan',
  title: "the authority's clock answers NaN when the token is issued",
  session: (context) => {
    const clock = context.clock();
    return { clock, authority: new AuthorityManager({ tenant: 'acme', clock: NAN_CLOCK }) };
  },
  steps: [harmful('read_file', NOTES, 'USER_TRUSTED')],
};

/**
 * @internal Arguments whose own methods or accessors would show the policy other data than the
 * tool gets: an array hiding an untrusted label behind its own `Symbol.iterator`, an array with
 * its own `map` and a getter element, a getter path.
 */
export const ARGUMENT_READER_SCENARIOS = family(
  'confused-deputy',
  { layer: 'policy', target: 'untrusted_web' },
  [
    ITERATOR_HIDES_LABEL,
    inCallsMode(
      ITERATOR_HIDES_LABEL,
      'call http_post with an untrusted secret in an array whose own Symbol.iterator yields nothing',
    ),
    {
      variant: 'own-map-getter-element',
      title:
        'an array with its own map and a getter element: the notes for the policy, the secrets for the tool',
      layer: 'runtime',
      target: 'workspace_files',
      steps: [harmful('read_file', () => ({ path: NOTES.path, also: shiftingArray() }), 'USER_TRUSTED')],
    },
    {
      variant: 'calls-getter-path',
      title: 'call read_file with a path getter: the notes for the policy, the secrets for the tool',
      layer: 'runtime',
      target: 'workspace_files',
      mode: 'calls',
      steps: [
        harmful(
          'read_file',
          () => {
            let reads = 0;
            return Object.defineProperty({}, 'path', {
              enumerable: true,
              get: () => (reads++ === 0 ? NOTES.path : '/workspace/.secrets/api-key'),
            });
          },
          'USER_TRUSTED',
        ),
      ],
    },
  ],
);

/** @internal An authority whose clock answers NaN (tokens that never expire), in both modes. */
export const AUTHORITY_CLOCK_SCENARIOS = family(
  'fail-open',
  { layer: 'runtime', target: 'workspace_files' },
  [
    AUTHORITY_CLOCK_NAN,
    inCallsMode(AUTHORITY_CLOCK_NAN, "call read_file while the authority's clock answers NaN"),
  ],
);

/** Why `text` does not load: the codes of its error findings, or `undefined` when it loads. */
function refusalOf(text: string): { readonly codes: string; readonly message: string } | undefined {
  try {
    loadPolicy({ text });
    return undefined;
  } catch (error) {
    if (!PolicyError.isInstance(error)) throw error;
    const findings = (error.details['findings'] ?? []) as readonly { code?: unknown; severity?: unknown }[];
    const codes = [...new Set(findings.filter((f) => f.severity !== 'warning').map((f) => String(f.code)))];
    return { codes: codes.join(','), message: error.message };
  }
}

/**
 * @internal A policy text an attacker hopes the loader reads differently from its author, then a
 * harmful call of `action` in a session of `tenant` under the policy as loaded. BLOCKED when the
 * loader refuses the text (`load:<codes>`) or the call is refused; the tests build the same row
 * with the text an unfixed loader produced to show the call then runs.
 */
export function loaderRow(
  variant: string,
  title: string,
  text: string,
  tenant: string,
  action: string,
  args: Readonly<Record<string, unknown>>,
) {
  return {
    variant,
    title,
    async run(context: AttackContext) {
      const refused = refusalOf(text);
      if (refused !== undefined) return context.blocked(`load:${refused.codes}`, refused.message);
      const { runtime } = context.session({ tenant, policy: loadPolicy({ text }) });
      await runtime.setIntent(intentOf([action]), { provenance: 'USER_TRUSTED' });
      await runtime.submitPlan(openPlan([action]), { provenance: 'USER_TRUSTED' });
      await runtime.executeStep(0, context.harmful(action).tool, { args, provenance: 'USER_TRUSTED' });
      return undefined;
    },
  };
}

/** @internal A tenant overlay that forbids deleting, then the same tenant written as a number. */
export const NUMERIC_DUPLICATE_TENANT = [
  'version: 1',
  'name: tenant-overlays',
  'allowed_actions: [read_file, delete_file]',
  'tenants:',
  '  "10042":',
  '    description: Regulated tenant, nothing is deleted.',
  '    forbidden_actions: [delete_file]',
  '  0x273A: { description: replaced }',
  '',
].join('\n');

/** @internal A policy whose author guarded a search query with a pattern that backtracks. */
export function backtrackingPatternPolicy(pattern: string): string {
  return [
    'version: 1',
    'name: careless-pattern',
    'rules:',
    '  - id: plain-words',
    '    actions: [search_web]',
    '    effect: allow',
    `    when: { args: { type: object, required: [query], properties: { query: { type: string, pattern: ${JSON.stringify(pattern)} } } } }`,
    '',
  ].join('\n');
}

/**
 * @internal A call of search_web under `pattern` with an argument adversarial for a backtracking engine
 * (bounded, so a backtracking engine finishes too). BLOCKED when the call is refused and the
 * argument never reached `RegExp.prototype.exec` or `test` (the policy matched it on the linear
 * engine); an argument that reached them counts as the attack succeeding.
 */
export function patternEngineRow(
  variant: string,
  title: string,
  pattern: string,
  query: string,
  compile: (text: string) => PolicyEvaluator = (text) => loadPolicy({ text }),
) {
  return {
    variant,
    title,
    async run(context: AttackContext) {
      const backtracking = context.harmful('backtracking-regexp');
      const { exec, test } = RegExp.prototype;
      const seen = (input: unknown): void => {
        if (input === query) backtracking.tool({ input: query });
      };
      RegExp.prototype.exec = function patchedExec(this: RegExp, input: string) {
        seen(input);
        return exec.call(this, input);
      };
      RegExp.prototype.test = function patchedTest(this: RegExp, input: string) {
        seen(input);
        return test.call(this, input);
      };
      try {
        const { runtime } = context.session({
          policy: compile(backtrackingPatternPolicy(pattern)),
        });
        await runtime.setIntent(intentOf(['search_web']), { provenance: 'USER_TRUSTED' });
        await runtime.submitPlan(openPlan(['search_web']), { provenance: 'USER_TRUSTED' });
        await runtime.executeStep(0, context.harmful('search_web').tool, byUser({ query }));
        return undefined;
      } finally {
        RegExp.prototype.exec = exec;
        RegExp.prototype.test = test;
      }
    },
  };
}

/**
 * @internal Policy text the loader must read as its author meant, and patterns no argument may
 * stall: numeric duplicate keys, patterns RE2 cannot run, patterns that backtrack.
 */
export const LOADER_SCENARIOS = family('fail-open', { layer: 'policy', target: 'workspace_files' }, [
  loaderRow(
    'numeric-duplicate-tenant',
    'a tenant overlay "10042" silently replaced by a later 0x273A key, then a delete in that tenant',
    NUMERIC_DUPLICATE_TENANT,
    '10042',
    'delete_file',
    { path: '/workspace' },
  ),
  loaderRow(
    'pattern-backreference',
    'a policy pattern with a backreference (no linear-time engine runs it)',
    backtrackingPatternPolicy('^(a+)+\\1$'),
    'acme',
    'search_web',
    { query: 'aaaaaaaaaaaaaaaaaaaaaaaa!' },
  ),
  patternEngineRow(
    'pattern-bounded-nested-quantifier',
    'a 24-character query against ^(\\w+\\s?){1,64}$ (exponential on a backtracking engine)',
    '^(\\w+\\s?){1,64}$',
    `${'a'.repeat(23)}!`,
  ),
  patternEngineRow(
    'pattern-polynomial',
    'a 24-character query against ^\\d*\\d*\\d*\\d*\\d*\\d*x$ (polynomial on a backtracking engine)',
    '^\\d*\\d*\\d*\\d*\\d*\\d*x$',
    '1'.repeat(24),
  ),
]);
