import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_MERKLE_ROOT,
  hashMerkleLeaf,
  MerkleTreeAccumulator,
  merkleConsistencyProof,
  merkleHashBytes,
  merkleInclusionProof,
  merkleRootOf,
  verifyMerkleConsistency,
  verifyMerkleInclusion,
} from './merkle.js';

// Published RFC 6962/9162 test vectors (transparency-dev/merkle testonly/constants.go and
// proof/verify_test.go): the eight standard leaves, every root, and known proofs.
const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
];
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const INCLUSION = [
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  { index: 0, size: 1, proof: [] },
];
const CONSISTENCY = [
  { size1: 1, size2: 1, proof: [] },
  {
    size1: 1,
    size2: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    size1: 6,
    size2: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    size1: 2,
    size2: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    size1: 6,
    size2: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const unhex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
const leafHashes = LEAVES.map((leaf) => hashMerkleLeaf(unhex(leaf)));
const root = (size: number): Uint8Array => unhex(ROOTS[size] as string);

describe('RFC 9162 Merkle tree', () => {
  it('computes the published root of every prefix of the eight standard leaves', () => {
    for (let size = 0; size <= 8; size++)
      expect(hex(merkleRootOf(leafHashes.slice(0, size)))).toBe(ROOTS[size]);
    expect(hex(EMPTY_MERKLE_ROOT)).toBe(ROOTS[0]);
  });

  it('computes the same roots incrementally, one leaf at a time', () => {
    const tree = new MerkleTreeAccumulator();
    expect(hex(tree.root())).toBe(ROOTS[0]);
    for (const [index, leaf] of LEAVES.entries()) {
      tree.appendLeaf(unhex(leaf));
      expect(tree.size).toBe(index + 1);
      expect(hex(tree.root())).toBe(ROOTS[index + 1]);
    }
  });

  it('produces and accepts the published inclusion proofs', () => {
    for (const vector of INCLUSION) {
      const proof = merkleInclusionProof(leafHashes, vector.index, vector.size);
      expect(proof.map(hex)).toEqual(vector.proof);
      const leaf = leafHashes[vector.index] as Uint8Array;
      expect(verifyMerkleInclusion(vector.index, vector.size, leaf, proof, root(vector.size))).toBe(true);
    }
  });

  it('produces and accepts the published consistency proofs', () => {
    for (const vector of CONSISTENCY) {
      const proof = merkleConsistencyProof(leafHashes, vector.size1, vector.size2);
      expect(proof.map(hex)).toEqual(vector.proof);
      expect(
        verifyMerkleConsistency(vector.size1, vector.size2, root(vector.size1), root(vector.size2), proof),
      ).toBe(true);
    }
  });

  it('rejects inclusion proofs with a wrong index, size, leaf, root or path', () => {
    for (const vector of INCLUSION.filter((item) => item.proof.length > 0)) {
      const proof = vector.proof.map(unhex);
      const leaf = leafHashes[vector.index] as Uint8Array;
      const good = root(vector.size);
      const flipped = proof.map((hash, position) =>
        position === 0 ? Uint8Array.from(hash, (byte, at) => (at === 0 ? byte ^ 8 : byte)) : hash,
      );
      expect(verifyMerkleInclusion(vector.index + 1, vector.size, leaf, proof, good)).toBe(false);
      expect(verifyMerkleInclusion(vector.index, vector.size * 2, leaf, proof, good)).toBe(false);
      expect(verifyMerkleInclusion(vector.index, vector.size, leafHashes[7] as Uint8Array, proof, good)).toBe(
        false,
      );
      expect(verifyMerkleInclusion(vector.index, vector.size, leaf, proof, EMPTY_MERKLE_ROOT)).toBe(false);
      expect(verifyMerkleInclusion(vector.index, vector.size, leaf, flipped, good)).toBe(false);
      expect(verifyMerkleInclusion(vector.index, vector.size, leaf, proof.slice(0, -1), good)).toBe(false);
      expect(verifyMerkleInclusion(vector.index, vector.size, leaf, [...proof, good], good)).toBe(false);
      expect(verifyMerkleInclusion(vector.index, vector.size, leaf, [good, ...proof], good)).toBe(false);
    }
    expect(verifyMerkleInclusion(0, 0, leafHashes[0] as Uint8Array, [], EMPTY_MERKLE_ROOT)).toBe(false);
    expect(verifyMerkleInclusion(1, 1, leafHashes[0] as Uint8Array, [], leafHashes[0] as Uint8Array)).toBe(
      false,
    );
  });

  it('rejects consistency proofs with wrong sizes, swapped roots or a changed path', () => {
    for (const vector of CONSISTENCY.filter((item) => item.proof.length > 0)) {
      const proof = vector.proof.map(unhex);
      const [root1, root2] = [root(vector.size1), root(vector.size2)];
      expect(verifyMerkleConsistency(vector.size1 - 1, vector.size2, root1, root2, proof)).toBe(false);
      expect(verifyMerkleConsistency(vector.size1 + 1, vector.size2, root1, root2, proof)).toBe(false);
      expect(verifyMerkleConsistency(vector.size1, vector.size2 * 2, root1, root2, proof)).toBe(false);
      expect(verifyMerkleConsistency(vector.size1, vector.size2, root2, root1, proof)).toBe(false);
      expect(verifyMerkleConsistency(vector.size1, vector.size2, root1, root2, [])).toBe(false);
      expect(verifyMerkleConsistency(vector.size1, vector.size2, root1, root2, proof.slice(0, -1))).toBe(
        false,
      );
      expect(verifyMerkleConsistency(vector.size1, vector.size2, root1, root2, [...proof, root2])).toBe(
        false,
      );
      expect(verifyMerkleConsistency(vector.size1, vector.size2, root1, root2, [root1, ...proof])).toBe(
        false,
      );
    }
    expect(verifyMerkleConsistency(2, 1, root(2), root(1), [])).toBe(false);
    expect(verifyMerkleConsistency(3, 3, root(3), root(2), [])).toBe(false);
    expect(verifyMerkleConsistency(0, 5, EMPTY_MERKLE_ROOT, root(5), [])).toBe(true);
  });

  it('hashes a text leaf as its UTF-8 bytes, whichever way it is appended', () => {
    const texts = ['', 'plain', 'café', '\u{1F600} and \u0000', '{"data":{}}'];
    const byText = new MerkleTreeAccumulator();
    const byBytes = new MerkleTreeAccumulator();
    const byString = new MerkleTreeAccumulator();
    for (const text of texts) {
      const leaf = byText.appendLeafText(text);
      expect(hex(merkleHashBytes(leaf))).toBe(hex(hashMerkleLeaf(Buffer.from(text, 'utf8'))));
      byBytes.appendLeaf(Buffer.from(text, 'utf8'));
      byString.appendLeaf(text);
    }
    expect(hex(byText.root())).toBe(hex(merkleRootOf(texts.map((text) => hashMerkleLeaf(text)))));
    expect(hex(byBytes.root())).toBe(hex(byText.root()));
    expect(hex(byString.root())).toBe(hex(byText.root()));
    const copy = byText.clone();
    byText.appendLeafText('one more');
    expect(copy.size).toBe(texts.length);
    expect(hex(copy.root())).toBe(hex(byBytes.root()));
  });

  it('combines leaf hashes of another length as merkleRootOf does', () => {
    const leaves = Array.from({ length: 7 }, (_, index) =>
      new Uint8Array(index % 3 === 0 ? 20 : 32).fill(index),
    );
    const tree = new MerkleTreeAccumulator();
    for (const leaf of leaves) tree.appendLeafHash(leaf);
    expect(hex(tree.root())).toBe(hex(merkleRootOf(leaves)));
  });

  it('rebuilds a tree from the compact range another thread sent, and refuses anything else', () => {
    const tree = new MerkleTreeAccumulator();
    const leaves = Array.from({ length: 6 }, (_, index) => hashMerkleLeaf(`leaf ${index}`));
    for (const leaf of leaves) tree.appendLeafHash(leaf);
    const latin = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');
    // Six leaves: subtrees of four and two.
    const range = [latin(merkleRootOf(leaves, 0, 4)), latin(merkleRootOf(leaves, 4, 6))];
    const rebuilt = MerkleTreeAccumulator.fromCompactRange(6, range);
    expect(rebuilt?.size).toBe(6);
    expect(hex(rebuilt?.root() ?? new Uint8Array())).toBe(hex(tree.root()));
    expect(MerkleTreeAccumulator.fromCompactRange(0, [])?.size).toBe(0);
    for (const [size, stack] of [
      [6, range.slice(1)],
      [7, range],
      [-1, []],
      [1.5, range],
      ['6', range],
      [6, 'not an array'],
      [6, [range[0], 42]],
      [6, [range[0], 'short']],
      [6, [range[0], `${'\u0100'}${(range[1] as string).slice(1)}`]],
    ] as [unknown, unknown][]) {
      expect(MerkleTreeAccumulator.fromCompactRange(size, stack), String(stack)).toBeUndefined();
    }
  });

  it('refuses to build proofs for positions outside the tree', () => {
    expect(() => merkleInclusionProof(leafHashes, 8, 8)).toThrow(RangeError);
    expect(() => merkleInclusionProof(leafHashes, 0, 9)).toThrow(RangeError);
    expect(() => merkleConsistencyProof(leafHashes, 5, 4)).toThrow(RangeError);
    expect(() => merkleConsistencyProof(leafHashes, 1, 9)).toThrow(RangeError);
  });

  it('round-trips every inclusion and consistency proof of random trees (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.nat(), fc.nat(), (size, a, b) => {
        const leaves = Array.from({ length: size }, (_, index) => hashMerkleLeaf(`leaf ${index}`));
        const tree = new MerkleTreeAccumulator();
        for (const leaf of leaves) tree.appendLeafHash(leaf);
        const rootHash = merkleRootOf(leaves);
        expect(hex(tree.root())).toBe(hex(rootHash));
        const index = a % size;
        const proof = merkleInclusionProof(leaves, index, size);
        expect(verifyMerkleInclusion(index, size, leaves[index] as Uint8Array, proof, rootHash)).toBe(true);
        const size1 = b % (size + 1);
        const consistency = merkleConsistencyProof(leaves, size1, size);
        const root1 = merkleRootOf(leaves, 0, size1);
        expect(verifyMerkleConsistency(size1, size, root1, rootHash, consistency)).toBe(true);
        if (size1 > 0 && size1 < size) {
          expect(verifyMerkleConsistency(size1, size, hashMerkleLeaf('other'), rootHash, consistency)).toBe(
            false,
          );
        }
      }),
      { numRuns: 200 },
    );
  });
});
