import { isProvenanceLabel, type ProvenanceLabel, trustRank } from '@ape/core';

/**
 * The `_meta` key that carries provenance. On a `tools/call` request the client may set
 * `params._meta["ape/provenance"]` to the least trusted label of the data in the arguments; on every
 * result the gateway forwards it is set to `"EXTERNAL_UNTRUSTED"`.
 */
export const PROVENANCE_META_KEY = 'ape/provenance';

/**
 * The `_meta` key that carries per-argument provenance on a `tools/call` request:
 * `params._meta["ape/argProvenance"] = { "/to": "USER_TRUSTED", "/body": "EXTERNAL_UNTRUSTED" }`,
 * RFC 6901 JSON pointers into the arguments. Each label is capped like {@link PROVENANCE_META_KEY}
 * (never above the gateway's default); arguments it does not name carry the call's label.
 */
export const ARG_PROVENANCE_META_KEY = 'ape/argProvenance';

/**
 * The `_meta` key of a refused `tools/call` result: `{ decision, rules, reason, code? }`, so a client
 * can tell an APE refusal from a tool's own error without parsing text.
 */
export const DECISION_META_KEY = 'ape/decision';

/**
 * @internal The label a call's arguments are judged with: the client's declared label, but never
 * more trusted than `ceiling` (a client can lower trust, not raise it). A declared value that is not
 * a label counts as EXTERNAL_UNTRUSTED.
 */
export function effectiveProvenance(meta: unknown, ceiling: ProvenanceLabel): ProvenanceLabel {
  if (typeof meta !== 'object' || meta === null || !Object.hasOwn(meta, PROVENANCE_META_KEY)) return ceiling;
  const declared: unknown = (meta as Record<string, unknown>)[PROVENANCE_META_KEY];
  const label: ProvenanceLabel = isProvenanceLabel(declared) ? declared : 'EXTERNAL_UNTRUSTED';
  return trustRank(label) < trustRank(ceiling) ? label : ceiling;
}

/** @internal `_meta` without the APE provenance key, or `undefined` when nothing else is left. */
export function forwardedMeta(meta: unknown): Record<string, unknown> | undefined {
  if (typeof meta !== 'object' || meta === null) return undefined;
  const copy: Record<string, unknown> = {};
  let any = false;
  for (const [key, value] of Object.entries(meta)) {
    if (key === PROVENANCE_META_KEY || key === ARG_PROVENANCE_META_KEY || key === 'progressToken') continue;
    copy[key] = value;
    any = true;
  }
  return any ? copy : undefined;
}

/**
 * @internal The per-argument labels a client declared (`_meta["ape/argProvenance"]`), each capped at
 * `ceiling` (an unknown label counts as EXTERNAL_UNTRUSTED); `undefined` when none were given, and
 * `'malformed'` when the key holds something other than an object of pointers to labels.
 */
export function declaredArgumentLabels(
  meta: unknown,
  ceiling: ProvenanceLabel,
): Readonly<Record<string, ProvenanceLabel>> | 'malformed' | undefined {
  if (typeof meta !== 'object' || meta === null || !Object.hasOwn(meta, ARG_PROVENANCE_META_KEY))
    return undefined;
  const declared: unknown = (meta as Record<string, unknown>)[ARG_PROVENANCE_META_KEY];
  if (typeof declared !== 'object' || declared === null || Array.isArray(declared)) return 'malformed';
  const labels: Record<string, ProvenanceLabel> = Object.create(null);
  for (const [pointer, value] of Object.entries(declared)) {
    const label: ProvenanceLabel = isProvenanceLabel(value) ? value : 'EXTERNAL_UNTRUSTED';
    labels[pointer] = trustRank(label) < trustRank(ceiling) ? label : ceiling;
  }
  return labels;
}
