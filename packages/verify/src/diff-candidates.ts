import type { ActionRequest } from '@ape/core';
import { PROVENANCE_LABELS } from '@ape/core';
import { sampleUrls } from './encode.js';
import { isGlob, sampleAction } from './glob.js';
import type { PolicyModel } from './model.js';
import { WITNESS_SESSION } from './witness.js';

/** At most this many candidate requests per action, so a policy with many arguments stays fast. */
const MAX_CANDIDATES = 4096;
/** At most this many values tried per argument (absent included). */
const MAX_VALUES = 8;

type Json = Readonly<Record<string, unknown>>;

/** Values worth trying for each top-level argument a schema names, read from the keywords. */
function collectValues(schema: unknown, values: Map<string, unknown[]>, argument: string | undefined): void {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return;
  const node = schema as Json;
  const add = (value: unknown): void => {
    if (argument === undefined) return;
    const list = values.get(argument)!;
    if (!list.some((item) => JSON.stringify(item) === JSON.stringify(value))) list.push(value);
  };
  if (argument === undefined) {
    const names = [
      ...((node['required'] as readonly string[] | undefined) ?? []),
      ...Object.keys((node['properties'] as Json | undefined) ?? {}),
    ];
    for (const name of names) if (!values.has(name)) values.set(name, []);
    for (const [name, child] of Object.entries((node['properties'] as Json | undefined) ?? {})) {
      collectValues(child, values, name);
    }
  } else {
    if (node['const'] !== undefined) add(node['const']);
    if (Array.isArray(node['enum'])) node['enum'].forEach(add);
    const path = node['x-ape-path'] as { roots?: string[]; exclude?: string[] } | undefined;
    for (const root of [...(path?.roots ?? []), ...(path?.exclude ?? [])]) {
      add(root);
      add(`${root === '/' ? '' : root}/a`);
    }
    const url = node['x-ape-url'] as Json | undefined;
    if (url !== undefined) sampleUrls(url).forEach(add);
  }
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    const items = node[key];
    if (Array.isArray(items)) for (const item of items) collectValues(item, values, argument);
  }
  for (const key of ['not', 'if', 'then', 'else'] as const) collectValues(node[key], values, argument);
}

const ABSENT = Symbol('absent');

/**
 * Concrete requests for one action (`*`: an action neither policy names) that are likely to tell
 * two policies apart: every tenant (each overlay and one without), every provenance label, the
 * argument values the rules' schemas name (constants, enum members, path roots and exclusions,
 * sample URLs, plus `"x"`, `0` and absent), each previous action a transition names, and each
 * limit below or at its budget. `exhaustive` is true when these requests cover every case: no rule
 * has an argument condition and no transition can refuse the action, so a decision depends only on
 * the tenant, the label and which budgets are used up.
 */
export function candidateRequests(
  parts: readonly PolicyModel[],
  action: string,
  knownActions: readonly string[],
  tenantForBase: string,
): { readonly requests: readonly ActionRequest[]; readonly exhaustive: boolean } {
  const other = action === '*';
  const actions = other
    ? [
        ...new Set(
          parts.flatMap((part) =>
            part.rules.flatMap((rule) => rule.actions.filter(isGlob).map((glob) => sampleAction(glob))),
          ),
        ),
      ].filter((sample) => !knownActions.includes(sample))
    : [action];
  const values = new Map<string, unknown[]>();
  for (const part of parts) for (const rule of part.rules) collectValues(rule.args, values, undefined);
  let argumentSets: Record<string, unknown>[] = [{}];
  for (const [name, found] of values) {
    const tried = [ABSENT, ...found, 'x', 0].slice(0, MAX_VALUES);
    argumentSets = argumentSets
      .flatMap((args) => tried.map((value) => (value === ABSENT ? args : { ...args, [name]: value })))
      .slice(0, MAX_CANDIDATES);
  }
  const thresholds = new Map<string, Set<number>>();
  for (const part of parts) {
    for (const limit of part.limits) {
      const budgets = thresholds.get(limit.id) ?? new Set([0]);
      budgets.add(limit.maxCalls);
      thresholds.set(limit.id, budgets);
    }
  }
  let usages: Record<string, number>[] = [{}];
  for (const [id, budgets] of thresholds) {
    usages = usages.flatMap((usage) => [...budgets].map((budget) => ({ ...usage, [id]: budget })));
  }
  const previous: (string | undefined)[] = [
    undefined,
    ...new Set(parts.flatMap((part) => part.transitions.map((transition) => sampleAction(transition.from)))),
  ];
  const tenants = new Set([
    tenantForBase,
    ...parts.flatMap((part) => part.tenants.map((tenant) => tenant.id)),
  ]);
  const requests: ActionRequest[] = [];
  for (const tenant of tenants) {
    for (const provenance of PROVENANCE_LABELS) {
      for (const name of actions) {
        for (const usage of usages) {
          for (const before of previous) {
            for (const args of argumentSets) {
              if (requests.length >= MAX_CANDIDATES) break;
              const session =
                thresholds.size === 0 && before === undefined
                  ? {}
                  : {
                      session: {
                        id: WITNESS_SESSION,
                        ...(before === undefined ? {} : { previousAction: before }),
                        ...(thresholds.size === 0 ? {} : { usage }),
                      },
                    };
              requests.push({ tenant, action: name, args, provenance, ...session });
            }
          }
        }
      }
    }
  }
  const exhaustive =
    !other &&
    requests.length < MAX_CANDIDATES &&
    parts.every((part) => part.transitions.length === 0 && part.rules.every((rule) => rule.args === null));
  return { requests, exhaustive };
}
