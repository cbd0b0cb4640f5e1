import type { LimitDefinition, PolicyDefinition, PolicyLayer, RuleConditions } from './definition.js';
import { PATH_KEYWORD, URL_KEYWORD } from './keywords.js';
import type { ExplainRow } from './types.js';
import { describeArgumentProvenance } from './provenance-keyword.js';

type Json = Readonly<Record<string, unknown>>;

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
        },
        filter.source.line,
      ),
    );
  }
  for (const rule of layer.rules) {
    const conditions = summariseWhen(rule.when);
    for (const pattern of rule.actions) {
      rows.push(
        withLine(
          {
            tenant: rule.tenant,
            action: pattern,
            effect: rule.effect,
            conditions,
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

function summariseWhen(when: RuleConditions | undefined): string {
  if (when === undefined) return 'always';
  const parts: string[] = [];
  if (when.args !== undefined) parts.push(summariseArgs(when.args));
  if (when.provenance !== undefined) parts.push(`provenance in [${when.provenance.join(', ')}]`);
  return parts.join('; ');
}

function summariseArgs(schema: Json): string {
  const parts: string[] = [];
  const required = schema['required'];
  if (Array.isArray(required) && required.length > 0) parts.push(`requires ${required.join(', ')}`);
  const properties = schema['properties'];
  if (typeof properties === 'object' && properties !== null) {
    for (const [name, raw] of Object.entries(properties as Record<string, unknown>)) {
      if (typeof raw !== 'object' || raw === null) continue;
      const property = raw as Json;
      const negated = property['not'] as Json | undefined;
      const pathOption = (property[PATH_KEYWORD] ?? negated?.[PATH_KEYWORD]) as
        | { roots?: string[] }
        | undefined;
      const urlOption = property[URL_KEYWORD] as { schemes?: string[]; hosts?: string[] } | undefined;
      if (pathOption !== undefined) {
        parts.push(
          `${name} ${property[PATH_KEYWORD] === undefined ? 'outside' : 'within'} ${(pathOption.roots ?? []).join(', ')}`,
        );
      } else if (urlOption !== undefined) {
        parts.push(
          `${name} is a ${(urlOption.schemes ?? []).join('/')} URL on ${(urlOption.hosts ?? []).join(', ')}`,
        );
      } else if (Array.isArray(property['enum'])) {
        parts.push(
          `${name} in [${(property['enum'] as unknown[]).map((value) => JSON.stringify(value)).join(', ')}]`,
        );
      } else if (property['const'] !== undefined) {
        parts.push(`${name} = ${JSON.stringify(property['const'])}`);
      } else if (typeof property['pattern'] === 'string') {
        parts.push(`${name} matches /${property['pattern']}/`);
      }
    }
  }
  parts.push(...describeArgumentProvenance(schema));
  return parts.length === 0 ? 'args match a schema' : `args: ${parts.join(', ')}`;
}
