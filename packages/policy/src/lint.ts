import type { PolicyLayer, RuleDefinition } from './definition.js';
import type { FindingSink } from './finding-sink.js';
import { childPath } from './findings.js';
import { createCoverFinder, globToRegExp, isGlob } from './glob.js';
import { didYouMean } from './suggest.js';

/**
 * @internal The lint checks over the policy model (base layer first): duplicate rule ids
 * (`LINT_DUPLICATE_RULE_ID`), conflicting and repeated list entries (`LINT_CONFLICT`,
 * `LINT_DUPLICATE_ENTRY`), rules an unconditional deny always overrides (`LINT_SHADOWED`), and,
 * with an action catalogue, patterns outside it (`LINT_UNKNOWN_ACTION`, `LINT_GLOB_MATCHES_NOTHING`).
 */
export function lintLayers(
  layers: readonly PolicyLayer[],
  catalogue: readonly string[] | undefined,
  sink: FindingSink,
): void {
  checkDuplicateIds(layers, sink);
  for (const layer of layers) checkListEntries(layer, sink);
  checkShadowed(layers[0]!, sink);
  if (catalogue !== undefined) checkCatalogue(layers, catalogue, sink);
}

/** Rule and limit ids are unique across the base policy and any one overlay. */
function checkDuplicateIds(layers: readonly PolicyLayer[], sink: FindingSink): void {
  const baseIds = recordIds(ids(layers[0]!), new Map<string, string>(), sink);
  for (const layer of layers.slice(1)) recordIds(ids(layer), new Map(baseIds), sink);
}

/** Adds each of `found` to `seen` (id to path), reporting an id already there; returns `seen`. */
function recordIds(
  found: readonly { id: string; path: string }[],
  seen: Map<string, string>,
  sink: FindingSink,
): Map<string, string> {
  for (const id of found) {
    if (seen.has(id.id)) {
      sink.add(
        'error',
        'LINT_DUPLICATE_RULE_ID',
        id.path,
        `the rule id "${id.id}" is used twice (first at ${seen.get(id.id)})`,
        [id.id],
      );
    } else {
      seen.set(id.id, id.path);
    }
  }
  return seen;
}

/** The ids written in the policy (synthetic ids of list entries and limits are unique by construction). */
function ids(layer: PolicyLayer): { id: string; path: string }[] {
  return [
    ...layer.rules
      .filter((rule) => rule.origin === 'rule')
      .map((rule) => ({ id: rule.id, path: `${rule.source.path}.id` })),
    ...layer.limits.map((limit) => ({ id: limit.id, path: `${limit.source.path}.id` })),
  ];
}

function checkListEntries(layer: PolicyLayer, sink: FindingSink): void {
  const byPattern = new Map<string, RuleDefinition[]>();
  for (const rule of layer.rules) {
    if (rule.origin !== 'list') continue;
    const pattern = rule.actions[0]!;
    const entries = byPattern.get(pattern);
    if (entries === undefined) byPattern.set(pattern, [rule]);
    else entries.push(rule);
  }
  for (const [pattern, entries] of byPattern) {
    // One entry can be neither a duplicate nor a conflict (most patterns of a large policy).
    if (entries.length === 1) continue;
    const effects = new Set(entries.map((entry) => entry.effect));
    for (const effect of effects) {
      const same = entries.filter((entry) => entry.effect === effect);
      if (same.length > 1) {
        sink.add(
          'warning',
          'LINT_DUPLICATE_ENTRY',
          same[1]!.source.path,
          `"${pattern}" is listed more than once`,
          same.map((entry) => entry.id),
        );
      }
    }
    if (effects.size < 2) continue;
    const involved = entries.map((entry) => entry.id);
    const last = entries[entries.length - 1]!;
    if (effects.has('deny')) {
      sink.add(
        'error',
        'LINT_CONFLICT',
        last.source.path,
        `"${pattern}" is both forbidden and ${effects.has('allow') ? 'allowed' : 'escalation-required'}; remove one of the entries`,
        involved,
      );
    } else {
      sink.add(
        'warning',
        'LINT_CONFLICT',
        last.source.path,
        `"${pattern}" is both allowed and escalation-required; escalation wins, so the allowed entry has no effect`,
        involved,
      );
    }
  }
}

function checkShadowed(base: PolicyLayer, sink: FindingSink): void {
  const firstCover = createCoverFinder(
    base.rules
      .filter((rule) => rule.effect === 'deny' && rule.when === undefined)
      .map((rule) => ({ id: rule.id, patterns: rule.actions })),
  );
  for (const rule of base.rules) {
    if (rule.effect === 'deny') continue;
    const shadowing = new Set<string>();
    const covered = rule.actions.every((pattern) => {
      const cover = firstCover(pattern);
      if (cover !== undefined) shadowing.add(cover.id);
      return cover !== undefined;
    });
    if (covered) {
      sink.add(
        'warning',
        'LINT_SHADOWED',
        rule.source.path,
        `the ${rule.effect} rule ${rule.id} never applies: ${[...shadowing].join(', ')} always ${shadowing.size === 1 ? 'denies' : 'deny'} its actions`,
        [rule.id, ...shadowing],
      );
    }
  }
}

function checkCatalogue(
  layers: readonly PolicyLayer[],
  catalogue: readonly string[],
  sink: FindingSink,
): void {
  const known = new Set(catalogue);
  const globMatchesCatalogue = new Map<string, boolean>();
  const matchesCatalogue = (pattern: string): boolean => {
    let matches = globMatchesCatalogue.get(pattern);
    if (matches === undefined) {
      const regExp = globToRegExp(pattern);
      matches = catalogue.some((action) => regExp.test(action));
      globMatchesCatalogue.set(pattern, matches);
    }
    return matches;
  };
  const check = (pattern: string, path: string, rule: string): void => {
    if (!isGlob(pattern)) {
      if (!known.has(pattern)) {
        sink.add(
          'error',
          'LINT_UNKNOWN_ACTION',
          path,
          `"${pattern}" is not in the action catalogue ($.actions)${didYouMean(pattern, catalogue)}`,
          [rule],
        );
      }
    } else if (!matchesCatalogue(pattern)) {
      sink.add(
        'error',
        'LINT_GLOB_MATCHES_NOTHING',
        path,
        `the glob "${pattern}" matches no action in the catalogue ($.actions)`,
        [rule],
      );
    }
  };
  for (const layer of layers) {
    for (const rule of layer.rules) {
      for (const [index, pattern] of rule.actions.entries()) {
        check(
          pattern,
          rule.origin === 'list' ? rule.source.path : childPath(`${rule.source.path}.actions`, index),
          rule.id,
        );
      }
    }
    for (const limit of layer.limits) {
      for (const [index, pattern] of limit.actions.entries()) {
        check(pattern, childPath(`${limit.source.path}.actions`, index), limit.id);
      }
    }
    for (const transition of layer.transitions) {
      check(transition.from, transition.source.path, transition.id);
      for (const [index, pattern] of transition.followers.entries()) {
        check(pattern, childPath(transition.source.path, index), transition.id);
      }
    }
    if (layer.filter !== undefined) {
      for (const [index, pattern] of layer.filter.actions.entries()) {
        check(pattern, childPath(layer.filter.source.path, index), layer.filter.id);
      }
    }
  }
}
