/**
 * `@ape/provenance`: trust labels that follow data into tool arguments, the APE prompt-injection
 * defence. Data is never authority: a value labelled `EXTERNAL_UNTRUSTED` may inform the agent's
 * reasoning but can never set an intent, approve a plan or approve an escalation, and policies decide
 * on the least trusted label of everything that flowed into a call.
 *
 * The label lattice and the `Labeled` type live in `@ape/core` (the runtime uses them); this package
 * re-exports them and adds the helpers a developer builds labelled values with.
 *
 * @packageDocumentation
 */
export type { Labeled, ProvenanceLabel } from '@ape/core';
export {
  combineLabels,
  isAtLeast,
  isLabeled,
  isProvenanceLabel,
  labelOf,
  PROVENANCE_LABELS,
  ProvenanceError,
  sourcesOf,
  trustRank,
  unwrapLabeled,
} from '@ape/core';
export type { JoinOptions, LabeledTemplateTag, UnlabeledAll } from './derive.js';
export { derive, join, labeled, map, withPlainLabel } from './derive.js';
export { labelAtPointers } from './label-at-pointers.js';
export type { Sources, Unlabeled } from './labeled-value.js';
export { tainted, trusted, untrusted } from './labeled-value.js';
export {
  combine,
  compareTrust,
  unwrap,
  EXTERNAL_UNTRUSTED,
  Labels,
  parseLabel,
  SYSTEM_TRUSTED,
  USER_TRUSTED,
} from './labels.js';
