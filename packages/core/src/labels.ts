import type { ProvenanceLabel } from './types.js';

/** The provenance labels, most trusted first. */
export const PROVENANCE_LABELS = Object.freeze([
  'SYSTEM_TRUSTED',
  'USER_TRUSTED',
  'EXTERNAL_UNTRUSTED',
] as const satisfies readonly ProvenanceLabel[]);

const RANK: Readonly<Record<ProvenanceLabel, number>> = Object.freeze({
  SYSTEM_TRUSTED: 2,
  USER_TRUSTED: 1,
  EXTERNAL_UNTRUSTED: 0,
});

/** True for exactly the three known labels (no trimming, no case folding). */
export function isProvenanceLabel(value: unknown): value is ProvenanceLabel {
  return value === 'SYSTEM_TRUSTED' || value === 'USER_TRUSTED' || value === 'EXTERNAL_UNTRUSTED';
}

/** The trust rank of a label: 2 system, 1 user, 0 external; anything unknown ranks 0 (fail closed). */
export function trustRank(label: unknown): number {
  return isProvenanceLabel(label) ? RANK[label] : 0;
}

/**
 * The least trusted of the given labels. No labels, or any unknown label, gives
 * `EXTERNAL_UNTRUSTED`: trust is never assumed.
 */
export function combineLabels(...labels: readonly unknown[]): ProvenanceLabel {
  if (labels.length === 0) return 'EXTERNAL_UNTRUSTED';
  let least: ProvenanceLabel = 'SYSTEM_TRUSTED';
  for (const label of labels) {
    if (!isProvenanceLabel(label)) return 'EXTERNAL_UNTRUSTED';
    if (RANK[label] < RANK[least]) least = label;
  }
  return least;
}

/** True when `label` is at least as trusted as `required` (an unknown label never is). */
export function isAtLeast(label: unknown, required: ProvenanceLabel): boolean {
  return isProvenanceLabel(label) && RANK[label] >= RANK[required];
}
