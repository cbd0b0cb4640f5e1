import type { LimitDefinition, PolicyDefinition, PolicyLayer } from './definition.js';
import { summariseConditions } from './explain-conditions.js';
import type { ExplainRow } from './types.js';

/**
 * @internal The rows of `explain()`, read from the policy model: per layer (base first), the tenant
 * filter, one row per rule pattern, one per limit and one per transition, each frozen.
 */
export function explainDefinition(definition: PolicyDefinition): readonly ExplainRow[] {
  const rows: ExplainRow[] = [];
  for (const layer of [definition.base, ...definition.tenants]) explainLayer(layer, rows);
  return Object.freeze(rows);
}

function explainLayer(layer: PolicyLayer, rows: ExplainRow[]): void {
  const withLine = (row: ExplainRow, line: number | undefined): ExplainRow =>
    Object.freeze(line === undefined ? row : { ...row, line });
  const filter = layer.filter;
  if (filter !== undefined) {
    rows.push(
      withLine(
        {
          tenant: filter.tenant,
          action: filter.actions.join(', '),
          effect: 'tenant_filter',
          conditions: 'only these actions',
          rule: filter.id,
          exact: true,
        },
        filter.source.line,
      ),
    );
  }
  for (const rule of layer.rules) {
    const summary = summariseConditions(rule.when);
    for (const pattern of rule.actions) {
      rows.push(
        withLine(
          {
            tenant: rule.tenant,
            action: pattern,
            effect: rule.effect,
            conditions: summary.text,
            condition: summary.condition,
            exact: summary.exact,
            rule: rule.id,
            ...(rule.reason === undefined ? {} : { reason: rule.reason }),
          },
          rule.source.line,
        ),
      );
    }
  }
  for (const limit of layer.limits) {
    rows.push(
      withLine(
        {
          tenant: limit.tenant,
          action: limit.actions.join(', '),
          effect: 'limit',
          conditions: describeLimit(limit),
          rule: limit.id,
          exact: true,
          ...(limit.reason === undefined ? {} : { reason: limit.reason }),
          scope: limit.scope,
          ...(limit.window === undefined ? {} : { window: limit.window }),
        },
        limit.source.line,
      ),
    );
  }
  for (const transition of layer.transitions) {
    rows.push(
      withLine(
        {
          tenant: transition.tenant,
          action: transition.from,
          effect: 'transition',
          conditions:
            transition.followers.length === 0
              ? 'no action may follow'
              : `may be followed only by ${transition.followers.join(', ')}`,
          rule: transition.id,
          exact: true,
        },
        transition.source.line,
      ),
    );
  }
}

/** `at most 3 calls per session`, `at most 100 calls per tenant in any 1d window`. */
function describeLimit(limit: LimitDefinition): string {
  const budget = `at most ${limit.maxCalls} call${limit.maxCalls === 1 ? '' : 's'} per ${limit.scope}`;
  return limit.window === undefined ? budget : `${budget} in any ${limit.window} window`;
}
