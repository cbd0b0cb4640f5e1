// The SDK hands a tool no conversation to read: the tracker of `@ape/core/adapter` as it is.
export {
  DEFAULT_DATAFLOW_MIN_LENGTH,
  MAX_INDEXED_CHARACTERS,
  PROVENANCE_MODES,
  type ProvenanceMode,
  TaintTracker,
} from '@ape/core/adapter';
