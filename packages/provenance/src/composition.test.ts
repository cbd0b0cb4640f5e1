import type { Labeled, ProvenanceLabel } from '@ape/core';
import { combineLabels, isLabeled, PROVENANCE_LABELS } from '@ape/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derive, join, labeled, map, withPlainLabel } from './derive.js';
import { tainted } from './labeled-value.js';

/** A random composition of helpers over labelled and plain leaves. */
type Node =
  | {
      readonly kind: 'leaf';
      readonly text: string;
      readonly label: unknown;
      readonly sources: readonly string[];
    }
  | { readonly kind: 'plain'; readonly text: string }
  | { readonly kind: 'map'; readonly child: Node }
  | { readonly kind: 'derive'; readonly children: readonly Node[] }
  | {
      readonly kind: 'join';
      readonly children: readonly Node[];
      readonly separator: string;
      readonly plainLabel: ProvenanceLabel | undefined;
    }
  | {
      readonly kind: 'template';
      readonly children: readonly Node[];
      readonly plainLabel: ProvenanceLabel | undefined;
    };

const labelArbitrary = fc.constantFrom<unknown>(...PROVENANCE_LABELS, 'ROOT', '', undefined);
const plainLabelArbitrary = fc.option(fc.constantFrom<ProvenanceLabel>(...PROVENANCE_LABELS), {
  nil: undefined,
});
const sourceArbitrary = fc.constantFrom('web:1', 'web:2', 'mail:1', 'user', 'config');

const { node } = fc.letrec<{ node: Node }>((tie) => {
  const children = fc.array(tie('node'), { minLength: 1, maxLength: 3 });
  return {
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.record({
        kind: fc.constant('leaf' as const),
        text: fc.string({ maxLength: 5 }),
        label: labelArbitrary,
        sources: fc.array(sourceArbitrary, { maxLength: 2 }),
      }),
      fc.record({ kind: fc.constant('plain' as const), text: fc.string({ maxLength: 5 }) }),
      fc.record({ kind: fc.constant('map' as const), child: tie('node') }),
      fc.record({ kind: fc.constant('derive' as const), children }),
      fc.record({
        kind: fc.constant('join' as const),
        children,
        separator: fc.string({ maxLength: 2 }),
        plainLabel: plainLabelArbitrary,
      }),
      fc.record({ kind: fc.constant('template' as const), children, plainLabel: plainLabelArbitrary }),
    ),
  };
});

function templateStrings(count: number): TemplateStringsArray {
  const literals = Array.from({ length: count + 1 }, (_, index) => `<${index}>`);
  return Object.assign([...literals], { raw: [...literals] }) as unknown as TemplateStringsArray;
}

/** Runs the composition with the real helpers. */
function evaluate(current: Node): Labeled<string> | string {
  switch (current.kind) {
    case 'leaf':
      return tainted(current.text, current.label as ProvenanceLabel, current.sources);
    case 'plain':
      return current.text;
    case 'map': {
      const child = evaluate(current.child);
      return map(child as Labeled<string>, (text) => `[${text}]`);
    }
    case 'derive':
      return derive((...texts) => texts.join('+'), ...current.children.map(evaluate));
    case 'join': {
      const parts = current.children.map(evaluate);
      return current.plainLabel === undefined
        ? join(parts, current.separator)
        : join(parts, current.separator, { plainLabel: current.plainLabel });
    }
    case 'template': {
      const tag = current.plainLabel === undefined ? labeled : withPlainLabel(current.plainLabel);
      const values = current.children.map(evaluate);
      return tag(templateStrings(values.length), ...values);
    }
  }
}

interface Expected {
  readonly text: string;
  readonly inputLabels: readonly unknown[];
  readonly sources: ReadonlySet<string>;
}

/**
 * The reference model: every input (leaf) contributes its own label, a plain leaf the label of the
 * helper that consumed it (EXTERNAL_UNTRUSTED unless a plain label was declared).
 */
function model(current: Node, plainLabel: unknown): Expected {
  switch (current.kind) {
    case 'leaf':
      return { text: current.text, inputLabels: [current.label], sources: new Set(current.sources) };
    case 'plain':
      return { text: current.text, inputLabels: [plainLabel], sources: new Set() };
    case 'map': {
      const child = model(current.child, 'EXTERNAL_UNTRUSTED');
      return { ...child, text: `[${child.text}]` };
    }
    case 'derive':
      return merge(
        current.children.map((child) => model(child, 'EXTERNAL_UNTRUSTED')),
        '+',
      );
    case 'join':
      return merge(
        current.children.map((child) => model(child, current.plainLabel ?? 'EXTERNAL_UNTRUSTED')),
        current.separator,
      );
    case 'template': {
      const parts = current.children.map((child) => model(child, current.plainLabel ?? 'EXTERNAL_UNTRUSTED'));
      const merged = merge(parts, '');
      const text = parts.reduce((result, part, index) => `${result}${part.text}<${index + 1}>`, '<0>');
      return { ...merged, text };
    }
  }
}

function merge(parts: readonly Expected[], separator: string): Expected {
  return {
    text: parts.map((part) => part.text).join(separator),
    inputLabels: parts.flatMap((part) => part.inputLabels),
    sources: new Set(parts.flatMap((part) => [...part.sources])),
  };
}

describe('any composition of helpers', () => {
  it('has the least trusted label of its inputs and the union of their sources', () => {
    fc.assert(
      fc.property(node, (tree) => {
        const result = evaluate({ kind: 'map', child: tree });
        const expected = model({ kind: 'map', child: tree }, 'EXTERNAL_UNTRUSTED');
        expect(isLabeled(result)).toBe(true);
        const value = result as Labeled<string>;
        expect(value.label).toBe(combineLabels(...expected.inputLabels));
        expect(new Set(value.sources)).toEqual(expected.sources);
        expect(value.sources.length).toBe(expected.sources.size);
        expect(value.value).toBe(expected.text);
        expect(Object.isFrozen(value)).toBe(true);
        expect(Object.isFrozen(value.sources)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('is never more trusted than any labelled input', () => {
    const rank: Readonly<Record<string, number>> = {
      SYSTEM_TRUSTED: 2,
      USER_TRUSTED: 1,
      EXTERNAL_UNTRUSTED: 0,
    };
    fc.assert(
      fc.property(node, (tree) => {
        const value = evaluate({ kind: 'map', child: tree }) as Labeled<string>;
        const inputs = model(tree, 'EXTERNAL_UNTRUSTED').inputLabels;
        return inputs.every((label) => (rank[value.label] ?? 0) <= (rank[String(label)] ?? 0));
      }),
      { numRuns: 300 },
    );
  });
});
