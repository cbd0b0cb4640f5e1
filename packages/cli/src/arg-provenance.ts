import type { ProvenanceLabel } from '@ape/core';
import { CommandFailure } from './command-failure.js';

/** @internal One `--arg-provenance` entry: an RFC 6901 pointer into the arguments and its label. */
export interface ArgProvenanceEntry {
  readonly pointer: string;
  readonly label: string;
}

/** @internal What {@link labelArguments} needs from `@ape/core`. */
export interface LabellingModule {
  readonly createLabeled: typeof import('@ape/core').createLabeled;
  readonly argumentLabels: typeof import('@ape/core').argumentLabels;
  readonly labelOf: typeof import('@ape/core').labelOf;
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

function segmentsOf(pointer: string, where: string): string[] {
  if (!pointer.startsWith('/')) {
    throw new CommandFailure(
      `${where} ${JSON.stringify(pointer)}: a JSON pointer starts with "/" (such as /to)`,
    );
  }
  const segments = pointer.slice(1).split('/');
  for (const segment of segments) {
    if (/~[^01]|~$/.test(segment)) {
      throw new CommandFailure(`${where} ${pointer}: "~" must be followed by 0 or 1 (RFC 6901)`);
    }
  }
  return segments.map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function copyOf(value: object): Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return [...value];
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    Object.defineProperty(copy, key, {
      value: (value as Record<string, unknown>)[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

function wrapAt(
  core: LabellingModule,
  value: unknown,
  segments: readonly string[],
  label: ProvenanceLabel,
  pointer: string,
  where: string,
): unknown {
  if (segments.length === 0) return core.createLabeled(value, label, [`${where} ${pointer}`]);
  const [head, ...rest] = segments as [string, ...string[]];
  const container = typeof value === 'object' && value !== null ? value : undefined;
  const index = Array.isArray(container) && /^(0|[1-9][0-9]*)$/.test(head) ? Number(head) : head;
  if (
    container === undefined ||
    !Object.hasOwn(container, index) ||
    (Array.isArray(container) && typeof index !== 'number')
  ) {
    throw new CommandFailure(`${where} ${pointer}: the arguments have no value at this pointer`);
  }
  const copy = copyOf(container) as Record<string | number, unknown>;
  copy[index] = wrapAt(core, copy[index], rest, label, pointer, where);
  return copy;
}

/**
 * @internal The labels a simulated call carries: the arguments with each `entries` pointer wrapped in
 * its label (deepest first, so an outer label covers inner ones and never raises their trust), then
 * labelled as the runtime does: `argLabels` per leaf, `provenance` the least trusted of all.
 */
export function labelArguments(
  core: LabellingModule,
  args: Readonly<Record<string, unknown>>,
  declared: ProvenanceLabel,
  entries: readonly { readonly pointer: string; readonly label: ProvenanceLabel }[],
  where: string,
): { readonly provenance: ProvenanceLabel; readonly argLabels?: Readonly<Record<string, ProvenanceLabel>> } {
  if (entries.length === 0) return { provenance: declared };
  const depth = (pointer: string) => pointer.split('/').length;
  const ordered = [...entries].sort((left, right) => depth(right.pointer) - depth(left.pointer));
  let wrapped: unknown = args;
  for (const { pointer, label } of ordered) {
    wrapped = wrapAt(core, wrapped, segmentsOf(pointer, where), label, pointer, where);
  }
  const argLabels = core.argumentLabels(wrapped, declared);
  return {
    provenance: core.labelOf(wrapped, declared),
    ...(argLabels === undefined ? {} : { argLabels }),
  };
}
