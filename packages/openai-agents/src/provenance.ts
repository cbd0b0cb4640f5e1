// The SDK hands a tool no conversation to read: the tracker of `@ape/core/adapter` as it is.
export { TaintTracker } from '@ape/core/adapter';
