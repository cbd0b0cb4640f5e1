import type { ActionRequest, ProvenanceLabel } from '@ape/core';
import { PROVENANCE_LABELS } from '@ape/core';
import { anyPatternMatches, isGlob, sampleAction } from './glob.js';
import {
  ACTION,
  EXTRA_ARGUMENT,
  type Encoding,
  HAS_PREVIOUS,
  PREVIOUS,
  PROVENANCE,
  TENANT,
} from './encode.js';
import type { PolicyModel } from './model.js';
import { realValue, type SExpression } from './smt-text.js';

/** @internal The session id of witness requests that need session context. */
export const WITNESS_SESSION = 'ape-verify';

function text(value: SExpression | undefined): string {
  if (value !== undefined && typeof value === 'object' && !Array.isArray(value)) {
    return (value as { string: string }).string;
  }
  return '';
}

function symbol(value: SExpression | undefined): string {
  return typeof value === 'string' ? value : '';
}

/** A name not among `taken`, for the argument standing for "some other argument". */
function extraName(taken: ReadonlySet<string>): string {
  let name = 'extra';
  while (taken.has(name)) name = `${name}_`;
  return name;
}

/**
 * @internal Turns a solver model into a concrete request. Limit counters become `session.calls`
 * entries on an action each limit counts, or, when a limit with a window or a wider scope than the
 * session has been used (which `session.calls` cannot express), `session.usage` entries per limit
 * id (re-checked against the real evaluator afterwards, like everything built here).
 */
export function witnessRequest(
  encoding: Encoding,
  values: ReadonlyMap<string, SExpression>,
  limits: readonly { readonly prefix: string; readonly model: PolicyModel }[],
): ActionRequest {
  const args: Record<string, unknown> = {};
  for (const variables of encoding.arguments) {
    if (symbol(values.get(variables.present)) !== 'true') continue;
    switch (symbol(values.get(variables.kind))) {
      case 'KString':
        args[variables.name] = text(values.get(variables.string));
        break;
      case 'KNumber': {
        const number = realValue(values.get(variables.number) ?? '0');
        args[variables.name] = Number.isFinite(number) ? number : 0;
        break;
      }
      case 'KBool':
        args[variables.name] = symbol(values.get(variables.boolean)) === 'true';
        break;
      case 'KNull':
        args[variables.name] = null;
        break;
      case 'KArray':
        args[variables.name] = [];
        break;
      default:
        args[variables.name] = {};
    }
  }
  if (symbol(values.get(EXTRA_ARGUMENT)) === 'true') {
    args[extraName(new Set(encoding.arguments.map((variables) => variables.name)))] = 'x';
  }
  const label = symbol(values.get(PROVENANCE));
  const provenance: ProvenanceLabel = (PROVENANCE_LABELS as readonly string[]).includes(label)
    ? (label as ProvenanceLabel)
    : 'EXTERNAL_UNTRUSTED';
  const action = text(values.get(ACTION));
  const calls: Record<string, number> = {};
  const usage: Record<string, number> = {};
  let needsUsage = false;
  for (const { prefix, model } of limits) {
    const counters = encoding.limitCounters.get(prefix) ?? [];
    model.limits.forEach((limit, index) => {
      const used = realValue(values.get(counters[index] ?? '') ?? '0');
      if (!(used > 0)) return;
      usage[limit.id] = Math.max(usage[limit.id] ?? 0, used);
      if (limit.scope !== 'session' || limit.windowMs !== null) needsUsage = true;
      const exactId = limit.actions.find((pattern) => !isGlob(pattern));
      const key = anyPatternMatches(limit.actions, action)
        ? action
        : (exactId ?? sampleAction(limit.actions[0]!));
      calls[key] = Math.max(calls[key] ?? 0, used);
    });
  }
  const previous = symbol(values.get(HAS_PREVIOUS)) === 'true' ? text(values.get(PREVIOUS)) : undefined;
  const hasCalls = !needsUsage && Object.keys(calls).length > 0;
  return {
    tenant: text(values.get(TENANT)),
    action,
    args,
    provenance,
    ...(previous === undefined && !hasCalls && !needsUsage
      ? {}
      : {
          session: {
            id: WITNESS_SESSION,
            ...(previous === undefined ? {} : { previousAction: previous }),
            ...(hasCalls ? { calls } : {}),
            ...(needsUsage ? { usage } : {}),
          },
        }),
  };
}
