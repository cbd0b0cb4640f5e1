import { canonicalJson, PROVENANCE_LABELS } from '@ape/core';
import { ANNOTATION_KEYWORDS, isUrlAllowed, type UrlKeywordOptions } from '@ape/policy';
import { isGlob } from './glob.js';
import type { ModelRule, PolicyModel } from './model.js';
import { regexToSmt } from './regex-to-smt.js';
import { smtReal, smtString } from './smt-text.js';

/** Something the encoding could not express exactly, and how it was approximated. */
export interface Approximation {
  /** The policy (its name) and rule concerned. */
  readonly policy: string;
  readonly rule: string;
  /** What was approximated, such as `args.url: x-ape-url`. */
  readonly condition: string;
  /** Why it is still sound. */
  readonly treatment: string;
}

/** @internal The SMT variables of one argument name. */
interface ArgumentVariables {
  readonly name: string;
  readonly present: string;
  readonly kind: string;
  readonly string: string;
  readonly number: string;
  readonly boolean: string;
}

/**
 * @internal A condition the encoding cannot state exactly, stood for by a Boolean variable `name`
 * bounded by `lower ⇒ name ⇒ upper` (both over the request's variables). Every real request has a
 * consistent value for it, so the encoding over-approximates the policy; and because one variable
 * stands for every occurrence of the same condition (in every rule and both policies of a diff),
 * the correlation between `c` and `not c` is kept.
 */
interface Atom {
  readonly name: string;
  readonly lower: string;
  readonly upper: string;
  /**
   * Where `lower` and `upper` agree (the atom is exact there), when such a region is known: the
   * region is the disjunction of these cases.
   */
  readonly exact: readonly string[] | undefined;
  /** The argument, keyword and keyword value the atom stands for. */
  readonly argument: string;
  readonly keyword: string;
  readonly value: unknown;
}

/** @internal The encoding of one or more policies over one shared request. */
export interface Encoding {
  readonly preamble: string;
  readonly approximations: readonly Approximation[];
  readonly arguments: readonly ArgumentVariables[];
  /** Per policy prefix: the `used` counter of each limit, in model order. */
  readonly limitCounters: ReadonlyMap<string, readonly string[]>;
  /** Terms whose values make a request. */
  readonly requestTerms: readonly string[];
  /** Holds when the request carries no session context (no previous action, no calls). */
  readonly noSession: string;
  /**
   * Where every approximated condition that has an exact region is inside it, as cases whose
   * disjunction is that region (one case per choice of each atom's exact disjunct, up to
   * {@link MAX_EXACT_CASES}). Z3 decides a disjunction of string
   * equalities and containments slowly (seconds) and each case at once (milliseconds), so searches
   * ask case by case.
   */
  readonly exactCases: readonly string[];
}

export const ACTION = 'action';
export const TENANT = 'tenant';
export const PROVENANCE = 'provenance';
export const HAS_PREVIOUS = 'has_previous';
export const PREVIOUS = 'previous';
export const EXTRA_ARGUMENT = 'extra_argument';

export function and(...terms: readonly string[]): string {
  const kept = terms.filter((term) => term !== 'true');
  if (kept.includes('false')) return 'false';
  if (kept.length === 0) return 'true';
  return kept.length === 1 ? kept[0]! : `(and ${kept.join(' ')})`;
}

export function or(...terms: readonly string[]): string {
  const kept = terms.filter((term) => term !== 'false');
  if (kept.includes('true')) return 'true';
  if (kept.length === 0) return 'false';
  return kept.length === 1 ? kept[0]! : `(or ${kept.join(' ')})`;
}

export function not(term: string): string {
  if (term === 'true') return 'false';
  if (term === 'false') return 'true';
  return `(not ${term})`;
}

function implies(condition: string, term: string): string {
  return or(not(condition), term);
}

/** @internal The SMT regex of an action glob; exact ids compare as strings. */
function globRegex(pattern: string): string {
  const parts: string[] = [];
  let literal = '';
  const flush = (): void => {
    if (literal !== '') parts.push(`(str.to_re ${smtString(literal)})`);
    literal = '';
  };
  for (let index = 0; index < pattern.length; index++) {
    if (pattern[index] === '*') {
      flush();
      if (pattern[index + 1] === '*') {
        parts.push('re.all');
        index += 1;
      } else {
        parts.push('(re.* (re.diff re.allchar (str.to_re ".")))');
      }
    } else {
      literal += pattern[index];
    }
  }
  flush();
  return parts.length === 1 ? parts[0]! : `(re.++ ${parts.join(' ')})`;
}

/** @internal `term` (a String) is matched by one of `patterns`. */
export function matchesPatterns(term: string, patterns: readonly string[]): string {
  return or(
    ...patterns.map((pattern) =>
      isGlob(pattern) ? `(str.in_re ${term} ${globRegex(pattern)})` : `(= ${term} ${smtString(pattern)})`,
    ),
  );
}

const ACTION_ID_CHARACTERS =
  '(re.union (re.range "A" "Z") (re.range "a" "z") (re.range "0" "9") (str.to_re "_") (str.to_re ".") (str.to_re ":") (str.to_re "-"))';
const ACTION_ID_FIRST = '(re.union (re.range "A" "Z") (re.range "a" "z") (re.range "0" "9") (str.to_re "_"))';

/**
 * @internal The request's action is made of action-id characters (anything else is always DENY).
 * The 128-character bound is left out on purpose: it makes every string query several times
 * slower, and leaving it out only adds requests (the encoding stays an over-approximation).
 */
export const ACTION_ID_CONSTRAINT = `(str.in_re ${ACTION} (re.++ ${ACTION_ID_FIRST} (re.* ${ACTION_ID_CHARACTERS})))`;

/**
 * Paths `normalisePath` certainly leaves unchanged, kept to a small alphabet so that string queries
 * stay fast: `/`, or `/`-separated non-empty segments of letters, digits, `_` and `-`.
 */
const CANONICAL_PATH =
  '(re.union (str.to_re "/") (re.+ (re.++ (str.to_re "/") (re.+ (re.union (re.range "a" "z") (re.range "A" "Z") (re.range "0" "9") (str.to_re "_") (str.to_re "-"))))))';

function normaliseRoot(root: string): string {
  const segments: string[] = [];
  for (const segment of root.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join('/')}`;
}

function withinRoot(term: string, root: string): string {
  if (root === '/') return 'true';
  return or(`(= ${term} ${smtString(root)})`, `(str.prefixof ${smtString(`${root}/`)} ${term})`);
}

/**
 * `term` lies within the excluded `path`, compared as `@ape/policy` does: case-insensitively
 * (`path.toLowerCase()`), so exact for the ASCII canonical paths.
 */
function withinExcluded(term: string, path: string): string {
  if (path === '/') return 'true';
  const characters = [...path.toLowerCase()].map((character) =>
    character >= 'a' && character <= 'z'
      ? `(re.union (str.to_re ${smtString(character)}) (str.to_re ${smtString(character.toUpperCase())}))`
      : `(str.to_re ${smtString(character)})`,
  );
  const below = '(re.union (str.to_re "") (re.++ (str.to_re "/") re.all))';
  return `(str.in_re ${term} (re.++ ${characters.join(' ')} ${below}))`;
}

class SchemaEncoder {
  constructor(
    private readonly argumentsByName: ReadonlyMap<string, ArgumentVariables>,
    private readonly atoms: Map<string, Atom>,
    private readonly note: (condition: string, treatment: string) => void,
  ) {}

  /** The args schema of a rule: arguments are always an object. */
  top(schema: unknown, where: string): string {
    if (schema === true) return 'true';
    if (schema === false) return 'false';
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema))
      return this.unknown(where, 'schema', schema, '*');
    const node = schema as Readonly<Record<string, unknown>>;
    const parts: string[] = [];
    const properties = (node['properties'] ?? {}) as Readonly<Record<string, unknown>>;
    for (const key of Object.keys(node)) {
      const value = node[key];
      if (ANNOTATION_KEYWORDS.has(key)) continue;
      switch (key) {
        case 'type': {
          const types = Array.isArray(value) ? value : [value];
          parts.push(types.includes('object') ? 'true' : 'false');
          break;
        }
        case 'required':
          for (const name of value as readonly string[]) parts.push(this.variables(name).present);
          break;
        case 'properties':
          for (const name of Object.keys(properties)) {
            const variables = this.variables(name);
            // x-ape-provenance makes its property required (the policy compiler adds it to `required`).
            if (carriesProvenanceKeyword(properties[name])) parts.push(variables.present);
            parts.push(
              implies(variables.present, this.value(properties[name], variables, `${where}.${name}`)),
            );
          }
          break;
        case 'additionalProperties':
          if (value === false && node['patternProperties'] === undefined) {
            const others = [...this.argumentsByName.values()].filter(
              (variables) => !(variables.name in properties),
            );
            parts.push(and(not(EXTRA_ARGUMENT), ...others.map((variables) => not(variables.present))));
          } else if (value !== true) {
            parts.push(this.unknown(where, key, value, '*'));
          }
          break;
        case 'allOf':
          parts.push(and(...(value as readonly unknown[]).map((item) => this.top(item, where))));
          break;
        case 'anyOf':
          parts.push(or(...(value as readonly unknown[]).map((item) => this.top(item, where))));
          break;
        case 'not':
          parts.push(not(this.top(value, where)));
          break;
        default:
          parts.push(this.unknown(where, key, value, '*'));
      }
    }
    return and(...parts);
  }

  private variables(name: string): ArgumentVariables {
    return this.argumentsByName.get(name)!;
  }

  /** An approximated condition: one shared variable per (argument, keyword, value). */
  private atom(
    argument: string,
    keyword: string,
    value: unknown,
    lower: string,
    upper: string,
    exact?: readonly string[],
  ): string {
    const key = canonicalJson([argument, keyword, value ?? null]);
    const existing = this.atoms.get(key);
    if (existing !== undefined) return existing.name;
    const atom: Atom = { name: `approx${this.atoms.size}`, lower, upper, exact, argument, keyword, value };
    this.atoms.set(key, atom);
    return atom.name;
  }

  private unknown(where: string, keyword: string, value: unknown, argument: string): string {
    this.note(`${where}: ${keyword}`, 'not encoded: the condition may hold or fail for any call');
    return this.atom(argument, keyword, value, 'false', 'true');
  }

  /** The schema of one argument's value (the argument is present). */
  value(schema: unknown, v: ArgumentVariables, where: string): string {
    if (schema === true) return 'true';
    if (schema === false) return 'false';
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema))
      return this.unknown(where, 'schema', schema, v.name);
    const node = schema as Readonly<Record<string, unknown>>;
    const isString = `(= ${v.kind} KString)`;
    const isNumber = `(= ${v.kind} KNumber)`;
    const parts: string[] = [];
    const onStrings = (term: string): string => implies(isString, term);
    const onNumbers = (term: string): string => implies(isNumber, term);
    for (const key of Object.keys(node)) {
      const value = node[key];
      if (ANNOTATION_KEYWORDS.has(key)) continue;
      switch (key) {
        case 'type': {
          const types = (Array.isArray(value) ? value : [value]) as readonly string[];
          parts.push(or(...types.map((type) => this.typeTerm(type, v))));
          break;
        }
        case 'const':
          parts.push(this.equals(value, v, where));
          break;
        case 'enum':
          parts.push(or(...(value as readonly unknown[]).map((item) => this.equals(item, v, where))));
          break;
        case 'pattern': {
          const regex = regexToSmt(value as string);
          if (regex === undefined) {
            this.note(
              `${where}: pattern /${String(value)}/`,
              'not representable as an SMT regex: may hold or fail for any string',
            );
            parts.push(this.atom(v.name, key, value, not(isString), 'true'));
          } else {
            parts.push(onStrings(`(str.in_re ${v.string} ${regex})`));
          }
          break;
        }
        case 'minLength':
          parts.push(onStrings(`(>= (str.len ${v.string}) ${value as number})`));
          break;
        case 'maxLength':
          parts.push(onStrings(`(<= (str.len ${v.string}) ${value as number})`));
          break;
        case 'minimum':
          parts.push(onNumbers(`(>= ${v.number} ${smtReal(value as number)})`));
          break;
        case 'maximum':
          parts.push(onNumbers(`(<= ${v.number} ${smtReal(value as number)})`));
          break;
        case 'exclusiveMinimum':
          parts.push(onNumbers(`(> ${v.number} ${smtReal(value as number)})`));
          break;
        case 'exclusiveMaximum':
          parts.push(onNumbers(`(< ${v.number} ${smtReal(value as number)})`));
          break;
        case 'x-ape-path':
          parts.push(this.path(value as Readonly<Record<string, unknown>>, v, where));
          break;
        case 'x-ape-provenance':
          // The labels of a call's arguments are not part of the model's state: each argument's
          // label is a free choice, so the condition may hold or fail for any call.
          this.note(
            `${where}: x-ape-provenance`,
            'per-argument labels are free in the model: the condition may hold or fail for any call',
          );
          parts.push(this.atom(v.name, key, value, 'false', 'true'));
          break;
        case 'x-ape-url':
          parts.push(this.url(value as Readonly<Record<string, unknown>>, v, where));
          break;
        case 'not':
          parts.push(not(this.value(value, v, where)));
          break;
        case 'allOf':
          parts.push(and(...(value as readonly unknown[]).map((item) => this.value(item, v, where))));
          break;
        case 'anyOf':
          parts.push(or(...(value as readonly unknown[]).map((item) => this.value(item, v, where))));
          break;
        case 'oneOf': {
          const items = (value as readonly unknown[]).map((item) => this.value(item, v, where));
          parts.push(
            or(
              ...items.map((item, index) =>
                and(item, ...items.filter((_, other) => other !== index).map(not)),
              ),
            ),
          );
          break;
        }
        default:
          parts.push(this.unknown(where, key, value, v.name));
      }
    }
    return and(...parts);
  }

  private typeTerm(type: string, v: ArgumentVariables): string {
    switch (type) {
      case 'string':
        return `(= ${v.kind} KString)`;
      case 'number':
        return `(= ${v.kind} KNumber)`;
      case 'integer':
        return `(and (= ${v.kind} KNumber) (is_int ${v.number}))`;
      case 'boolean':
        return `(= ${v.kind} KBool)`;
      case 'null':
        return `(= ${v.kind} KNull)`;
      case 'object':
        return `(= ${v.kind} KObject)`;
      case 'array':
        return `(= ${v.kind} KArray)`;
      default:
        return 'false';
    }
  }

  private equals(value: unknown, v: ArgumentVariables, where: string): string {
    if (typeof value === 'string') return `(and (= ${v.kind} KString) (= ${v.string} ${smtString(value)}))`;
    if (typeof value === 'number') return `(and (= ${v.kind} KNumber) (= ${v.number} ${smtReal(value)}))`;
    if (typeof value === 'boolean') return `(and (= ${v.kind} KBool) (= ${v.boolean} ${String(value)}))`;
    if (value === null) return `(= ${v.kind} KNull)`;
    this.note(`${where}: const/enum object or array`, 'compared by kind only');
    return this.atom(
      v.name,
      'const',
      value,
      'false',
      `(= ${v.kind} ${Array.isArray(value) ? 'KArray' : 'KObject'})`,
    );
  }

  /**
   * `x-ape-url`: URL parsing is not encoded. Exact on non-strings (they fail), on strings without
   * `:` (never a URL) and on one sample URL per allowed scheme and host (`https://host/`, checked
   * with the real `isUrlAllowed`), which pass; any other string may or may not pass.
   */
  private url(options: Readonly<Record<string, unknown>>, v: ArgumentVariables, where: string): string {
    this.note(
      `${where}: x-ape-url`,
      'URL parsing is not encoded: exact for non-strings, strings without ":" and one sample URL per scheme and host; other strings may or may not pass',
    );
    const isString = `(= ${v.kind} KString)`;
    const samples = sampleUrls(options).map((url) => `(= ${v.string} ${smtString(url)})`);
    const colon = `(str.contains ${v.string} ":")`;
    return this.atom(v.name, 'x-ape-url', options, and(isString, or(...samples)), and(isString, colon), [
      not(isString),
      not(colon),
      ...samples,
    ]);
  }

  /**
   * `x-ape-path`: exact on canonical paths (those `normalisePath` leaves unchanged), where lying
   * within a root is a prefix test; any other string may or may not pass.
   */
  private path(options: Readonly<Record<string, unknown>>, v: ArgumentVariables, where: string): string {
    const roots = ((options['roots'] as readonly string[] | undefined) ?? []).map(normaliseRoot);
    const excluded = ((options['exclude'] as readonly string[] | undefined) ?? []).map(normaliseRoot);
    const relative = options['relativeTo'] !== undefined;
    this.note(
      `${where}: x-ape-path`,
      relative
        ? 'exact for canonical absolute paths; relative and non-canonical paths may or may not pass'
        : 'exact for canonical paths; paths with ".", "..", "//", "%" or a trailing "/" may or may not pass',
    );
    const isString = `(= ${v.kind} KString)`;
    const canonical = `(str.in_re ${v.string} ${CANONICAL_PATH})`;
    const inside = and(
      or(...roots.map((root) => withinRoot(v.string, root))),
      ...excluded.map((path) => not(withinExcluded(v.string, path))),
    );
    const bounded = `(<= (str.len ${v.string}) 4096)`;
    return this.atom(
      v.name,
      'x-ape-path',
      options,
      and(isString, canonical, bounded, inside),
      and(
        isString,
        bounded,
        relative ? 'true' : `(str.prefixof "/" ${v.string})`,
        implies(canonical, inside),
      ),
      [not(isString), and(canonical, bounded)],
    );
  }
}

/** @internal One URL per allowed scheme and host that `isUrlAllowed` accepts (`*.h` stands for `x.h`). */
export function sampleUrls(options: Readonly<Record<string, unknown>>): string[] {
  const schemes = (options['schemes'] as readonly string[] | undefined) ?? [];
  const hosts = (options['hosts'] as readonly string[] | undefined) ?? [];
  const ports = options['ports'] as readonly number[] | undefined;
  const urls: string[] = [];
  for (const scheme of schemes) {
    for (const host of hosts) {
      const name = host.startsWith('*.') ? `x${host.slice(1)}` : host;
      const url = `${scheme.toLowerCase()}://${name.toLowerCase()}${ports === undefined ? '' : `:${ports[0]}`}/`;
      if (isUrlAllowed(url, options as unknown as UrlKeywordOptions)) urls.push(url);
    }
  }
  return urls;
}

/**
 * Whether every value that passes `first` passes `second`, decided on the keywords' options alone
 * (both `x-ape-path` or both `x-ape-url`). Asserting it keeps two approximated conditions on one
 * argument as correlated as the real ones, so the solver need not reason about strings for it.
 * False means "not shown", never "does not hold".
 */
function atomImplies(first: Atom, second: Atom): boolean {
  if (first.keyword !== second.keyword) return false;
  if (first.keyword === 'x-ape-path')
    return pathImplies(first.value as PathOptions, second.value as PathOptions);
  if (first.keyword === 'x-ape-url') return urlImplies(first.value as UrlOptions, second.value as UrlOptions);
  return false;
}

interface PathOptions {
  readonly roots: readonly string[];
  readonly exclude?: readonly string[];
  readonly relativeTo?: string;
}

interface UrlOptions {
  readonly schemes: readonly string[];
  readonly hosts: readonly string[];
  readonly ports?: readonly number[];
}

function within(path: string, root: string): boolean {
  return root === '/' || path === root || path.startsWith(`${root}/`);
}

/** Inside some root of `first` and outside its exclusions implies the same for `second`. */
function pathImplies(first: PathOptions, second: PathOptions): boolean {
  const relative = (options: PathOptions): string | undefined =>
    options.relativeTo === undefined ? undefined : normaliseRoot(options.relativeTo);
  if (relative(first) !== relative(second)) return false;
  const excludedFirst = (first.exclude ?? []).map((path) => normaliseRoot(path).toLowerCase());
  const excludedSecond = (second.exclude ?? []).map((path) => normaliseRoot(path).toLowerCase());
  const rootsSecond = second.roots.map(normaliseRoot);
  return first.roots.map(normaliseRoot).every((root) => {
    if (!rootsSecond.some((other) => within(root, other))) return false;
    const folded = root.toLowerCase();
    return excludedSecond.every((excluded) => {
      // Exclusions compare case-insensitively: any overlap with the root must be excluded by `first` too.
      if (within(folded, excluded)) return excludedFirst.some((path) => within(folded, path));
      if (!within(excluded, folded)) return true;
      return excludedFirst.some((path) => within(excluded, path));
    });
  });
}

function hostCovered(host: string, hosts: readonly string[]): boolean {
  const name = host.toLowerCase();
  return hosts.some((pattern) => {
    const other = pattern.toLowerCase();
    if (other === name) return true;
    if (!other.startsWith('*.')) return false;
    // `*.d` covers `x.d` and `*.x.d`, never `d` itself.
    const suffix = other.slice(1);
    const bare = name.startsWith('*.') ? name.slice(2) : name;
    return bare.endsWith(suffix) && bare.length > suffix.length - 1 && bare !== suffix.slice(1);
  });
}

/** Every scheme, host and port `first` accepts, `second` accepts. */
function urlImplies(first: UrlOptions, second: UrlOptions): boolean {
  const schemes = new Set(second.schemes.map((scheme) => scheme.toLowerCase()));
  if (!first.schemes.every((scheme) => schemes.has(scheme.toLowerCase()))) return false;
  if (!first.hosts.every((host) => hostCovered(host, second.hosts))) return false;
  const ports = second.ports;
  if (ports === undefined) return true;
  return (first.ports ?? [0]).every((port) => ports.includes(port));
}

/** @internal Every argument name some rule's schema mentions at its top level. */
function argumentNames(models: readonly PolicyModel[]): string[] {
  const names = new Set<string>();
  const visit = (schema: unknown): void => {
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return;
    const node = schema as Readonly<Record<string, unknown>>;
    for (const name of (node['required'] as readonly string[] | undefined) ?? []) names.add(name);
    for (const name of Object.keys((node['properties'] as object | undefined) ?? {})) names.add(name);
    for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
      const items = node[key];
      if (Array.isArray(items)) items.forEach(visit);
    }
    visit(node['not']);
  };
  for (const model of models) for (const rule of model.rules) visit(rule.args);
  return [...names].sort();
}

/** @internal The scopes of a model: the base policy (`null`) and each tenant overlay. */
export function scopesOf(model: PolicyModel): (string | null)[] {
  return [null, ...model.tenants.map((tenant) => tenant.id)];
}

/** @internal SMT name of a per-scope predicate. */
export function scopeName(prefix: string, scopeIndex: number, predicate: string): string {
  return `${prefix}s${scopeIndex}_${predicate}`;
}

/** @internal SMT name of a rule's `applies` predicate. */
export function ruleName(prefix: string, ruleIndex: number): string {
  return `${prefix}r${ruleIndex}`;
}

/** @internal The condition selecting a scope from the request's tenant. */
export function scopeCondition(model: PolicyModel, scope: string | null): string {
  if (scope !== null) return `(= ${TENANT} ${smtString(scope)})`;
  return and(...model.tenants.map((tenant) => `(not (= ${TENANT} ${smtString(tenant.id)}))`));
}

/**
 * @internal Encodes policies over one shared request. For each policy (prefix `p`) it defines
 * `p_allow`, `p_escalate`, `p_permit` (ALLOW or ESCALATE) and `p_deny` (dispatching on the
 * tenant), the same per scope (`p_s<k>_...`, with `denied`, `allows`, `base_escalates` and
 * `tenant_escalates`), and each rule's `applies` (`p_r<i>`).
 */
export function encodePolicies(
  policies: readonly { readonly prefix: string; readonly model: PolicyModel }[],
): Encoding {
  const names = argumentNames(policies.map((entry) => entry.model));
  const argumentsList: ArgumentVariables[] = names.map((name, index) => ({
    name,
    present: `arg${index}_present`,
    kind: `arg${index}_kind`,
    string: `arg${index}_string`,
    number: `arg${index}_number`,
    boolean: `arg${index}_boolean`,
  }));
  const argumentsByName = new Map(argumentsList.map((variables) => [variables.name, variables]));
  const lines: string[] = [
    `(declare-datatypes () ((Provenance ${PROVENANCE_LABELS.join(' ')})))`,
    '(declare-datatypes () ((Kind KString KNumber KBool KNull KObject KArray)))',
    '; the request',
    `(declare-const ${ACTION} String)`,
    `(declare-const ${TENANT} String)`,
    `(declare-const ${PROVENANCE} Provenance)`,
    `(declare-const ${HAS_PREVIOUS} Bool)`,
    `(declare-const ${PREVIOUS} String)`,
    `(declare-const ${EXTRA_ARGUMENT} Bool)`,
    `(assert ${ACTION_ID_CONSTRAINT})`,
  ];
  const requestTerms = [ACTION, TENANT, PROVENANCE, HAS_PREVIOUS, PREVIOUS, EXTRA_ARGUMENT];
  for (const variables of argumentsList) {
    lines.push(
      `; argument ${JSON.stringify(variables.name)}`,
      `(declare-const ${variables.present} Bool)`,
      `(declare-const ${variables.kind} Kind)`,
      `(declare-const ${variables.string} String)`,
      `(declare-const ${variables.number} Real)`,
      `(declare-const ${variables.boolean} Bool)`,
    );
    requestTerms.push(
      variables.present,
      variables.kind,
      variables.string,
      variables.number,
      variables.boolean,
    );
  }
  const approximations: Approximation[] = [];
  const limitCounters = new Map<string, readonly string[]>();
  const atoms = new Map<string, Atom>();
  const body: string[] = [];
  // The calls a limit counts depend only on its action patterns, scope and window: limits with the
  // same ones (in one policy or across the two of a diff) share one counter.
  const counterByPatterns = new Map<string, string>();
  for (const { prefix, model } of policies) {
    const counters = model.limits.map((limit) => {
      const key = canonicalJson([[...new Set(limit.actions)].sort(), limit.scope, limit.windowMs]);
      let counter = counterByPatterns.get(key);
      if (counter === undefined) {
        counter = `used${counterByPatterns.size}`;
        counterByPatterns.set(key, counter);
        lines.push(`(declare-const ${counter} Int)`, `(assert (>= ${counter} 0))`);
        requestTerms.push(counter);
      }
      return counter;
    });
    limitCounters.set(prefix, counters);
    body.push(...encodePolicy(prefix, model, argumentsByName, atoms, approximations, counters));
  }
  if (atoms.size > 0) lines.push('; approximated conditions: lower => atom => upper');
  for (const atom of atoms.values()) {
    lines.push(
      `(declare-const ${atom.name} Bool)`,
      `(assert (=> ${atom.lower} ${atom.name}))`,
      `(assert (=> ${atom.name} ${atom.upper}))`,
    );
  }
  const atomList = [...atoms.values()];
  for (const first of atomList) {
    for (const second of atomList) {
      if (first !== second && first.argument === second.argument && atomImplies(first, second)) {
        lines.push(`(assert (=> ${first.name} ${second.name}))`);
      }
    }
  }
  return {
    preamble: `${[...lines, ...body].join('\n')}\n`,
    approximations,
    arguments: argumentsList,
    limitCounters,
    requestTerms,
    exactCases: exactCases([...atoms.values()]),
    noSession: and(
      not(HAS_PREVIOUS),
      ...[...counterByPatterns.values()].map((counter) => `(= ${counter} 0)`),
    ),
  };
}

/** @internal The most cases {@link Encoding.exactCases} splits the exact region into. */
export const MAX_EXACT_CASES = 64;

/**
 * The exact region as cases: the product of the atoms' disjuncts while it stays within
 * {@link MAX_EXACT_CASES}; the atoms left over are added to every case as one disjunction each.
 */
function exactCases(atoms: readonly Atom[]): string[] {
  let cases: string[][] = [[]];
  const rest: string[] = [];
  for (const atom of atoms) {
    if (atom.exact === undefined) continue;
    const choices = atom.exact;
    if (cases.length * choices.length <= MAX_EXACT_CASES) {
      cases = cases.flatMap((chosen) => choices.map((choice) => [...chosen, choice]));
    } else {
      rest.push(or(...choices));
    }
  }
  return cases.map((chosen) => and(...chosen, ...rest));
}

function encodePolicy(
  prefix: string,
  model: PolicyModel,
  argumentsByName: ReadonlyMap<string, ArgumentVariables>,
  atoms: Map<string, Atom>,
  approximations: Approximation[],
  counters: readonly string[],
): string[] {
  const lines: string[] = [`; policy ${JSON.stringify(model.name)} (${model.digest})`];
  const define = (name: string, body: string): void => {
    lines.push(`(define-fun ${name} () Bool ${body})`);
  };
  model.rules.forEach((rule: ModelRule, index) => {
    const encoder = new SchemaEncoder(argumentsByName, atoms, (condition, treatment) => {
      const known = approximations.some(
        (entry) => entry.policy === model.name && entry.rule === rule.id && entry.condition === condition,
      );
      if (!known) approximations.push({ policy: model.name, rule: rule.id, condition, treatment });
    });
    const args = rule.args === null ? 'true' : encoder.top(rule.args, 'args');
    const provenance =
      rule.provenance === null ? 'true' : or(...rule.provenance.map((label) => `(= ${PROVENANCE} ${label})`));
    lines.push(
      `; rule ${JSON.stringify(rule.id)}${rule.tenant === null ? '' : ` (tenant ${JSON.stringify(rule.tenant)})`}`,
    );
    define(ruleName(prefix, index), and(matchesPatterns(ACTION, rule.actions), provenance, args));
  });
  const scopes = scopesOf(model);
  scopes.forEach((scope, scopeIndex) => {
    const inScope = (tenant: string | null): boolean => tenant === null || tenant === scope;
    const rulesOf = (predicate: (rule: ModelRule) => boolean): string =>
      or(
        ...model.rules.flatMap((rule, index) =>
          inScope(rule.tenant) && predicate(rule) ? [ruleName(prefix, index)] : [],
        ),
      );
    const tenant = model.tenants.find((entry) => entry.id === scope);
    const allowedActions = tenant?.allowedActions ?? null;
    const filter = allowedActions === null ? 'false' : not(matchesPatterns(ACTION, allowedActions));
    const transitions = model.transitions
      .filter((transition) => inScope(transition.tenant))
      .map((transition) =>
        and(
          HAS_PREVIOUS,
          matchesPatterns(PREVIOUS, [transition.from]),
          not(matchesPatterns(ACTION, transition.followers)),
        ),
      );
    const limits = model.limits.flatMap((limit, index) =>
      inScope(limit.tenant)
        ? [and(matchesPatterns(ACTION, limit.actions), `(>= ${counters[index]!} ${limit.maxCalls})`)]
        : [],
    );
    const name = (predicate: string): string => scopeName(prefix, scopeIndex, predicate);
    lines.push(`; scope: ${scope === null ? 'base policy' : `tenant ${JSON.stringify(scope)}`}`);
    define(
      name('denied'),
      or(
        rulesOf((rule) => rule.effect === 'deny'),
        filter,
        ...transitions,
        ...limits,
      ),
    );
    define(
      name('base_escalates'),
      rulesOf((rule) => rule.effect === 'escalate' && rule.tenant === null),
    );
    define(
      name('tenant_escalates'),
      rulesOf((rule) => rule.effect === 'escalate' && rule.tenant !== null),
    );
    define(
      name('allows'),
      rulesOf((rule) => rule.effect === 'allow'),
    );
    // A tenant's escalation only applies to what the base policy allows or escalates.
    const escalates = or(name('base_escalates'), and(name('tenant_escalates'), name('allows')));
    define(name('escalate'), and(not(name('denied')), escalates));
    define(name('allow'), and(not(name('denied')), not(escalates), name('allows')));
    define(name('permit'), and(not(name('denied')), or(name('base_escalates'), name('allows'))));
    define(name('deny'), not(name('permit')));
  });
  for (const predicate of ['allow', 'escalate', 'permit', 'deny'] as const) {
    let body = scopeName(prefix, 0, predicate);
    for (let index = scopes.length - 1; index >= 1; index--) {
      body = `(ite ${scopeCondition(model, scopes[index]!)} ${scopeName(prefix, index, predicate)} ${body})`;
    }
    define(`${prefix}${predicate}`, body);
  }
  return lines;
}

/** Whether a property schema carries `x-ape-provenance` directly or in an allOf/anyOf/oneOf branch. */
function carriesProvenanceKeyword(schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return false;
  if (Object.hasOwn(schema, 'x-ape-provenance')) return true;
  for (const branch of ['allOf', 'anyOf', 'oneOf']) {
    const list = (schema as Readonly<Record<string, unknown>>)[branch];
    if (Array.isArray(list) && list.some(carriesProvenanceKeyword)) return true;
  }
  return false;
}
