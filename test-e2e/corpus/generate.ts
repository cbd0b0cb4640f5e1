import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The corpus entries too large (or too binary) to commit: written into a scratch directory at test
 * time. Each is named after the problem and listed in `expectations.ts`.
 */
export const GENERATED_POLICIES: Readonly<Record<string, () => string | Buffer>> = {
  /** Billion laughs: 10 aliases per level, 9 levels (10^9 nodes once expanded). */
  'alias-bomb.yaml': () => {
    const lines = ['version: 1', 'l0: &l0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let level = 1; level <= 9; level++) {
      lines.push(`l${level}: &l${level} [${Array(10).fill(`*l${level - 1}`).join(', ')}]`);
    }
    return `${lines.join('\n')}\n`;
  },
  'many-aliases.yaml': () => `version: 1\nmetadata: &m { a: 1 }\ndescription: [${Array(500).fill('*m').join(', ')}]\n`,
  'depth-bomb-flow.yaml': () => `version: 1\nmetadata: ${'['.repeat(100_000)}\n`,
  'depth-bomb-block.yaml': () =>
    Array.from({ length: 1_000 }, (_, depth) => `${' '.repeat(depth)}k${depth}:`).join('\n'),
  'depth-bomb.json': () => `{"metadata": ${'['.repeat(200_000)}${']'.repeat(200_000)}}`,
  /** One mapping with 20,000 keys: a quadratic duplicate check would take minutes. */
  'quadratic-keys.yaml': () =>
    `version: 1\nmetadata:\n${Array.from({ length: 20_000 }, (_, index) => `  k${index}: ${index}`).join('\n')}\n`,
  /** A 20 MB scalar: refused by size before it is parsed. */
  'huge-scalar.yaml': () => `version: 1\ndescription: "${'A'.repeat(20 * 1024 * 1024)}"\n`,
  /** Bytes that are not UTF-8 (0xFF 0xFE) inside the policy name. */
  'invalid-utf8.yaml': () =>
    Buffer.concat([Buffer.from('version: 1\nname: policy'), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]),
};

/** Writes every generated entry into `directory`. */
export function writeGeneratedPolicies(directory: string): void {
  for (const [name, generate] of Object.entries(GENERATED_POLICIES)) writeFileSync(join(directory, name), generate());
}
