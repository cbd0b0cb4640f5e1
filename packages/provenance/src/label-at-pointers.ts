import { createLabeled, type ProvenanceLabel, ProvenanceError } from '@ape/core';

function segmentsOf(pointer: string): string[] {
  if (!pointer.startsWith('/')) {
    throw new ProvenanceError(`${JSON.stringify(pointer)}: a JSON pointer starts with "/" (such as /to).`, {
      pointer,
    });
  }
  const segments = pointer.slice(1).split('/');
  for (const segment of segments) {
    if (/~[^01]|~$/.test(segment)) {
      throw new ProvenanceError(`${pointer}: "~" must be followed by 0 or 1 (RFC 6901).`, { pointer });
    }
  }
  return segments.map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function copyOf(value: object): Record<string | number, unknown> {
  if (Array.isArray(value)) return [...value] as unknown as Record<number, unknown>;
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
  value: unknown,
  segments: readonly string[],
  label: ProvenanceLabel,
  pointer: string,
  sources: readonly string[],
): unknown {
  if (segments.length === 0) return createLabeled(value, label, sources);
  const [head, ...rest] = segments as [string, ...string[]];
  const container = typeof value === 'object' && value !== null ? value : undefined;
  const isArray = Array.isArray(container);
  const key = isArray && /^(0|[1-9][0-9]*)$/.test(head) ? Number(head) : head;
  if (container === undefined || (isArray && typeof key !== 'number') || !Object.hasOwn(container, key)) {
    throw new ProvenanceError(`${pointer}: the arguments have no value at this pointer.`, { pointer });
  }
  const copy = copyOf(container);
  copy[key] = wrapAt(copy[key], rest, label, pointer, sources);
  return copy;
}

/**
 * A copy of `args` in which the value at each RFC 6901 JSON pointer of `labels` is wrapped in its
 * label (a labelled value, as `tainted` makes), for a host that learns the labels of a call's
 * arguments by pointer (`ape simulate --arg-provenance`, the MCP `_meta` key `ape/argProvenance`).
 * Deeper pointers are wrapped first, so an outer label covers the inner ones and never raises their
 * trust. `args` is not changed; an unknown label becomes `EXTERNAL_UNTRUSTED`.
 *
 * @throws ProvenanceError (`PROVENANCE`, `details.pointer`) for a pointer that does not start with
 * `/`, has a `~` not followed by `0` or `1`, or names no value of `args`.
 */
export function labelAtPointers(
  args: Readonly<Record<string, unknown>>,
  labels: Readonly<Record<string, unknown>>,
  sources: readonly string[] = [],
): Record<string, unknown> {
  const depth = (pointer: string) => pointer.split('/').length;
  const pointers = Object.keys(labels).sort((left, right) => depth(right) - depth(left));
  let wrapped: unknown = args;
  for (const pointer of pointers) {
    const segments = segmentsOf(pointer);
    const label = labels[pointer] as ProvenanceLabel;
    wrapped = wrapAt(wrapped, segments, label, pointer, sources);
  }
  return wrapped as Record<string, unknown>;
}
