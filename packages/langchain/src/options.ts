import {
  type AdapterOptions,
  adapterConfigError,
  type DenyBehaviour,
  type ResolvedAdapterOptions,
  resolveAdapterOptions,
} from '@ape/core/adapter';

export type { DenyBehaviour };

/** How the adapter finds the thread (lineage) of a call, from the run's `configurable`. */
export type LineageOf = (configurable: Readonly<Record<string, unknown>> | undefined) => string | undefined;

/**
 * What {@link createApeLangChain} takes: the options every APE adapter takes (`AdapterOptions` of
 * `@ape/core/adapter`) and `lineage`. `escalation` decides an escalation the interrupt flow did not
 * ask about; the default audit sink is {@link ApeLangChain.audit}.
 */
export interface ApeLangChainOptions extends AdapterOptions {
  /**
   * The lineage (thread) of a call, from the run's `configurable`. Default: `configurable.thread_id`.
   * Return a user id to share budgets across a user's threads. No lineage: the call is refused.
   */
  readonly lineage?: LineageOf;
}

/** @internal The validated options. */
export interface ResolvedOptions extends ResolvedAdapterOptions {
  readonly lineage: LineageOf | undefined;
}

/** @internal Validates {@link ApeLangChainOptions}; the runtime validates the rest when a session starts. */
export function resolveOptions(options: ApeLangChainOptions): ResolvedOptions {
  const resolved = resolveAdapterOptions('createApeLangChain', options);
  if (options.lineage !== undefined && typeof options.lineage !== 'function') {
    throw adapterConfigError(
      'createApeLangChain',
      'lineage',
      '`lineage` must be a function of `configurable` returning the thread id.',
    );
  }
  return { ...resolved, lineage: options.lineage };
}
