import type {
  ActionRequest,
  PolicyDecision,
  PolicyEvaluator,
  ProvenanceLabel,
  UsageLimit,
  UsageScope,
} from '@ape/core';
import type { PolicyDefinition } from './definition.js';

/** How serious a finding is: an `error` makes the policy invalid, a `warning` is reported and kept. */
export type FindingSeverity = 'error' | 'warning';

/**
 * One problem found while loading, validating or linting a policy. `code` is stable
 * (SCREAMING_SNAKE): `FILE_UNREADABLE`, `YAML_SYNTAX`, `JSON_SYNTAX`, `SCHEMA`, `UNKNOWN_KEY`, `DUPLICATE_KEY`,
 * `LIMIT_SIZE`, `LIMIT_DEPTH`, `LIMIT_ALIASES`, `LIMIT_KEYS`, `LIMIT_NODES`, `LIMIT_RULES`, `TAG`,
 * `DIRECTIVE`, `MULTI_DOCUMENT`, `UNSAFE_PATTERN`, `ARGS_SCHEMA`, `LINT_CONFLICT`,
 * `LINT_DUPLICATE_RULE_ID`, `LINT_DUPLICATE_ENTRY`, `LINT_SHADOWED`, `LINT_GLOB_MATCHES_NOTHING`,
 * `LINT_UNKNOWN_ACTION`.
 */
export interface PolicyFinding {
  readonly severity: FindingSeverity;
  readonly code: string;
  readonly message: string;
  /** The file the policy came from, when known. */
  readonly file?: string;
  /** 1-based line, when known. */
  readonly line?: number;
  /** 1-based column, when known. */
  readonly column?: number;
  /** JSON path of the offending field, such as `$.rules[2].effect`. */
  readonly path?: string;
  /** Rule ids involved (lint findings). */
  readonly rules?: readonly string[];
}

/** Load-time limits; every field has a default (see {@link DEFAULT_POLICY_LIMITS}). */
export interface PolicyLimits {
  /** Maximum size of the policy text in bytes (UTF-8). Default 1 MiB. */
  readonly maxBytes: number;
  /** Maximum nesting of mappings and sequences, checked before the YAML tree is built. Default 64. */
  readonly maxDepth: number;
  /** Maximum number of YAML aliases (`*name`). Default 100. */
  readonly maxAliases: number;
  /** Maximum number of keys in one mapping (and items in one sequence). Default 1000. */
  readonly maxKeysPerMapping: number;
  /** Maximum number of values after alias expansion. Default 100000. */
  readonly maxNodes: number;
  /** Maximum number of rules (list entries, rules, limits and transitions, tenants included). Default 10000. */
  readonly maxRules: number;
}

/** Options for {@link loadPolicy}, {@link validatePolicy} and {@link compilePolicy}. */
export interface PolicyLoadOptions {
  /** Overrides of the load-time limits. */
  readonly limits?: Partial<PolicyLimits>;
  /** Name used when the document has none (default: the file name without extension, or `unnamed`). */
  readonly defaultName?: string;
  /** The file the document came from, for messages. */
  readonly filename?: string;
}

/** A policy given as text rather than a path. */
export interface PolicySource {
  readonly text: string;
  /** Default `yaml`; JSON is parsed with the same hardened parser (JSON is a subset of YAML 1.2). */
  readonly format?: 'yaml' | 'json';
  /** Used in messages and for the default name. */
  readonly filename?: string;
}

/** The result of {@link validatePolicy}: never thrown, always returned. */
export interface PolicyValidation {
  readonly ok: boolean;
  /** Every error and warning found; file-read failures carry code `FILE_UNREADABLE`. */
  readonly findings: readonly PolicyFinding[];
  /** The compiled policy when `ok`. */
  readonly policy?: CompiledPolicy;
}

/** What a rule does when it applies. */
export type RuleEffect = 'allow' | 'deny' | 'escalate';

/** The kind of a row in {@link CompiledPolicy.explain}. */
export type ExplainKind = RuleEffect | 'limit' | 'transition' | 'tenant_filter';

/**
 * The logic of a rule's conditions as `explain` reads it: the tree its `conditions` text renders,
 * with JSON Schema semantics (a keyword that constrains one JSON type holds for values of other
 * types; `property` holds when the value is not an object or lacks the property).
 *
 * - `always` / `never`: no condition / the `false` schema.
 * - `all`, `any`, `one`: every / at least one / exactly one of `of` holds (`allOf`, `anyOf`, `oneOf`,
 *   and the keywords of one schema object, which hold together).
 * - `not`: `of` fails. `if`: `ifTrue` when `test` holds, `ifFalse` otherwise (`if`, `then`, `else`).
 * - `property`: the property `name`, when present, satisfies `of`. `others`: every property not in
 *   `except` satisfies `of` (`additionalProperties`). `items`: every item satisfies `of`.
 * - `keyword`: one JSON Schema keyword (or `x-ape-path`, `x-ape-url`) with its value, on the value
 *   at this place.
 * - `provenance`: the call's provenance is one of `labels`.
 * - `unsummarised`: a keyword explain does not render; the row is then marked `exact: false`.
 */
export type ExplainCondition =
  | { readonly op: 'always' }
  | { readonly op: 'never' }
  | { readonly op: 'all' | 'any' | 'one'; readonly of: readonly ExplainCondition[] }
  | { readonly op: 'not'; readonly of: ExplainCondition }
  | {
      readonly op: 'if';
      readonly test: ExplainCondition;
      readonly ifTrue: ExplainCondition;
      readonly ifFalse: ExplainCondition;
    }
  | { readonly op: 'property'; readonly name: string; readonly of: ExplainCondition }
  | { readonly op: 'others'; readonly except: readonly string[]; readonly of: ExplainCondition }
  | { readonly op: 'items'; readonly of: ExplainCondition }
  | { readonly op: 'keyword'; readonly keyword: string; readonly value: unknown }
  | { readonly op: 'provenance'; readonly labels: readonly ProvenanceLabel[] }
  | { readonly op: 'unsummarised'; readonly keyword: string; readonly value: unknown };

/** One row of the human-readable table of a policy. */
export interface ExplainRow {
  /** The tenant overlay the row belongs to, or `null` for the base policy. */
  readonly tenant: string | null;
  /** The action pattern (exact id or glob); for a transition, the previous action. */
  readonly action: string;
  readonly effect: ExplainKind;
  /**
   * The conditions in words, exactly (`always` when there are none): `not`, `anyOf`, `oneOf`,
   * nested properties, items, paths, URLs, provenance; a limit's budget with its scope and window;
   * a transition's followers. Keywords explain cannot render read `(not summarised)`.
   */
  readonly conditions: string;
  /** For a rule: its conditions as a tree (what `conditions` renders). */
  readonly condition?: ExplainCondition;
  /** False when some condition of the rule is not summarised exactly: read the rule itself. */
  readonly exact: boolean;
  /** The rule id decisions carry. */
  readonly rule: string;
  /** The rule's own reason, when it has one. */
  readonly reason?: string;
  /** For a limit: who shares the budget (`session`, `lineage` or `tenant`). */
  readonly scope?: UsageScope;
  /** For a limit with a window: the window as written (`30s`, `1h`, `1d`). */
  readonly window?: string;
  /** 1-based line of the rule in the source file, when known. */
  readonly line?: number;
}

/** How one check fared in a simulation. */
export interface SimulationStep {
  /** The rule id (or synthetic id such as `intent.allowed_actions`, `limits[0]`). */
  readonly rule: string;
  readonly kind: ExplainKind | 'intent' | 'default';
  /** Whether the check applied (for a deny-type check: it denied; for allow/escalate: it granted). */
  readonly applied: boolean;
  /** Why it applied or not, one sentence. */
  readonly because: string;
}

/** A decision plus the trace of every check whose action pattern matched. */
export interface SimulationResult extends PolicyDecision {
  /** The tenant overlay used, or `null` when the base policy decided. */
  readonly tenant: string | null;
  readonly trace: readonly SimulationStep[];
}

/**
 * A compiled, immutable policy. Implements core's {@link PolicyEvaluator}.
 *
 * Precedence: deny (intent, transitions, limits, tenant filter, deny rules) > escalate > allow >
 * default deny. Decisions do not depend on rule order or duplication.
 */
export interface CompiledPolicy extends PolicyEvaluator {
  /** The policy's name (from the document, the file name, or `unnamed`). */
  readonly name: string;
  /** sha256 of the canonical JSON of the normalised document. */
  readonly digest: string;
  /** Lint warnings found at load time (errors prevent compilation). */
  readonly warnings: readonly PolicyFinding[];
  /** The tenant ids that have an overlay. */
  readonly tenants: readonly string[];
  /**
   * The normalised rule model the policy was compiled from (deeply frozen): every rule, limit,
   * transition and tenant overlay with its id and source location. What `explain`, lint and
   * `@ape/verify` read.
   */
  readonly definition: PolicyDefinition;
  /** The enforcement path: never throws; an internal error is a DENY carrying `code`. */
  evaluate(request: ActionRequest): PolicyDecision;
  /** The same decision as {@link evaluate}, with a trace of which rules matched and why. Never throws. */
  simulate(request: ActionRequest): SimulationResult;
  /** A table of every rule, for people. */
  explain(): readonly ExplainRow[];
  /** Whether some call of `action` by `tenant` could be ALLOW or ESCALATE. */
  mayPermit(tenant: string, action: string): boolean;
  /** Whether some call of `action` by `tenant` could be ESCALATE: false when no rule matching it escalates. */
  mayEscalate(tenant: string, action: string): boolean;
  /**
   * The limits a call of `action` by `tenant` counts against: the base policy's and `tenant`'s
   * overlay's `limits` whose action patterns match `action`, with their scope and window in
   * milliseconds, in rule-id order. Precomputed at load for every action id the policy names (and
   * memoised for others), so the same arguments give the same frozen array. Never throws: an
   * unknown tenant gets the base limits, an action that is not a string gets none.
   */
  limitsFor(tenant: string, action: string): readonly UsageLimit[];
}
