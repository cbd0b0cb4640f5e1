import type { ProvenanceLabel } from '@ape/core';
import { CommandFailure } from './command-failure.js';

/** @internal One `--arg-provenance` entry: an RFC 6901 pointer into the arguments and its label. */
export interface ArgProvenanceEntry {
  readonly pointer: string;
  readonly label: string;
}

/** @internal What {@link labelArguments} needs from `@ape/core` and `@ape/provenance`. */
export interface LabellingModules {
  readonly core: Pick<typeof import('@ape/core'), 'argumentLabels' | 'labelOf'>;
  readonly provenance: Pick<typeof import('@ape/provenance'), 'labelAtPointers' | 'ProvenanceError'>;
}

/** @internal `--arg-provenance /to=USER_TRUSTED` → `{ pointer: '/to', label: 'USER_TRUSTED' }`. */
export function parseArgProvenance(entry: string, where: string): ArgProvenanceEntry {
  const split = entry.lastIndexOf('=');
  if (split <= 0 || !entry.startsWith('/')) {
    throw new CommandFailure(
      `${where} ${JSON.stringify(entry)}: expected <JSON pointer>=<label>, such as /to=USER_TRUSTED`,
    );
  }
  return { pointer: entry.slice(0, split), label: entry.slice(split + 1) };
}

/**
 * @internal The labels a simulated call carries: the arguments with each pointer wrapped in its
 * label (`labelAtPointers`), then labelled as the runtime does: `argLabels` per leaf, `provenance`
 * the least trusted of all.
 */
export function labelArguments(
  modules: LabellingModules,
  args: Readonly<Record<string, unknown>>,
  declared: ProvenanceLabel,
  entries: readonly { readonly pointer: string; readonly label: ProvenanceLabel }[],
  where: string,
): { readonly provenance: ProvenanceLabel; readonly argLabels?: Readonly<Record<string, ProvenanceLabel>> } {
  if (entries.length === 0) return { provenance: declared };
  const labels: Record<string, ProvenanceLabel> = Object.create(null);
  for (const { pointer, label } of entries) labels[pointer] = label;
  let wrapped: Record<string, unknown>;
  try {
    wrapped = modules.provenance.labelAtPointers(args, labels, [where]);
  } catch (error) {
    if (modules.provenance.ProvenanceError.isInstance(error))
      throw new CommandFailure(`${where} ${error.message}`);
    throw error;
  }
  const argLabels = modules.core.argumentLabels(wrapped, declared);
  return {
    provenance: modules.core.labelOf(wrapped, declared),
    ...(argLabels === undefined ? {} : { argLabels }),
  };
}
