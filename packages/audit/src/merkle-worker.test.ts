import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MerkleWorker } from './merkle-worker.js';
import { createAuditChain, serializeAuditRecord } from './record.js';
import { type TreeVerification, verifyFileWithTree } from './verify.js';

let directory = '';
let files = 0;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ape-audit-merkle-worker-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** A log of `count` records; every fifth holds non-ASCII text (decoded line by line). */
function log(count: number): string[] {
  const chain = createAuditChain();
  return Array.from({ length: count }, (_, n) =>
    serializeAuditRecord(
      chain.next({
        type: 'tool.executed',
        tenant: 't',
        session: `s-${n % 3}`,
        time: Date.UTC(2026, 0, 1) + n,
        data: { n, note: n % 5 === 0 ? 'café' : 'plain' },
      }),
    ),
  );
}

async function file(text: string): Promise<string> {
  const path = join(directory, `log-${files++}.jsonl`);
  await writeFile(path, text);
  return path;
}

/** The one-thread result, to compare with. */
const oneThread = (path: string, maxLineBytes: number, rootSize?: number) =>
  verifyFileWithTree(path, maxLineBytes, rootSize, { parallelMinBytes: Number.POSITIVE_INFINITY });

function summary(scanned: TreeVerification) {
  return {
    verification: scanned.verification,
    rootAtSize: scanned.rootAtSize,
    size: scanned.tree.size,
    root: Buffer.from(scanned.tree.root()).toString('hex'),
  };
}

const tampering = fc.constantFrom(
  'none',
  'edit',
  'drop',
  'swap',
  'duplicate',
  'garbage',
  'torn',
  'unterminated',
);

function tamper(lines: string[], kind: string, at: number): string {
  const copy = [...lines];
  const index = lines.length === 0 ? 0 : at % lines.length;
  if (kind === 'edit' && copy[index] !== undefined) copy[index] = copy[index].replace('"n":', '"n":1');
  if (kind === 'drop') copy.splice(index, 1);
  if (kind === 'swap' && index + 1 < copy.length) copy.splice(index, 2, copy[index + 1]!, copy[index]!);
  if (kind === 'duplicate' && copy[index] !== undefined) copy.splice(index, 0, copy[index]);
  if (kind === 'garbage') copy.splice(index, 0, '{"not": "a record"}');
  const text = copy.map((line) => `${line}\n`).join('');
  if (kind === 'torn') return `${text}{"data":{"n"`;
  if (kind === 'unterminated') return text.slice(0, -1);
  return text;
}

describe('verifying a file on two threads', () => {
  it('gives the one-thread result for intact and tampered logs, however the chunks fall (property)', async () => {
    const lines = log(40);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 40 }),
        tampering,
        fc.nat(),
        fc.integer({ min: 1, max: 400 }),
        fc.option(fc.integer({ min: 0, max: 45 }), { nil: undefined }),
        async (count, kind, at, chunkBytes, rootSize) => {
          const path = await file(tamper(lines.slice(0, count), kind, at));
          const expected = summary(await oneThread(path, 1_048_576, rootSize));
          const parallel = await verifyFileWithTree(path, 1_048_576, rootSize, {
            parallelMinBytes: 0,
            chunkBytes,
          });
          expect(summary(parallel)).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('stops its worker on every path: intact, tampered, torn', async () => {
    const lines = log(12);
    for (const kind of ['none', 'swap', 'torn']) {
      const path = await file(tamper(lines, kind, 4));
      let started: MerkleWorker | undefined;
      const scanned = await verifyFileWithTree(path, 1_048_576, undefined, {
        parallelMinBytes: 0,
        chunkBytes: 50,
        onWorker: (worker) => {
          started = worker;
        },
      });
      expect(scanned.verification.ok, kind).toBe(kind !== 'swap');
      expect(started, kind).toBeDefined();
      expect(typeof (await started?.exited), kind).toBe('number');
    }
  });

  it('waits for a worker that falls behind, with the same result', async () => {
    const path = await file(tamper(log(30), 'none', 0));
    const scanned = await verifyFileWithTree(path, 1_048_576, 10, {
      parallelMinBytes: 0,
      chunkBytes: 64,
      maxBehindBytes: 0,
    });
    expect(summary(scanned)).toEqual(summary(await oneThread(path, 1_048_576, 10)));
  });

  it('sends nothing past an over-long line, and the log fails as it does on one thread', async () => {
    const lines = log(6);
    lines.splice(3, 0, `{"data":"${'x'.repeat(3000)}"}`);
    for (const text of [lines.map((line) => `${line}\n`).join(''), lines.slice(0, 4).join('\n')]) {
      const path = await file(text);
      const expected = summary(await oneThread(path, 400));
      const parallel = await verifyFileWithTree(path, 400, undefined, {
        parallelMinBytes: 0,
        chunkBytes: 16,
      });
      expect(summary(parallel)).toEqual(expected);
      expect(expected.verification.records).toBe(3);
    }
  });
});

type Traffic = { readonly chunk: number } | { readonly through: number } | { readonly done: number };

/**
 * Runs `body` while recording, in order, what the verifier posts to its Merkle workers (chunk sizes
 * and `through` marks) and the progress (`done`) they report back. The workers run for real.
 */
async function watchWorkers<T>(body: () => Promise<T>): Promise<{ result: T; traffic: Traffic[] }> {
  const traffic: Traffic[] = [];
  const watched = new WeakSet<Worker>();
  const post = Worker.prototype.postMessage;
  const spy = vi.spyOn(Worker.prototype, 'postMessage').mockImplementation(function (
    this: Worker,
    ...args: Parameters<Worker['postMessage']>
  ) {
    if (!watched.has(this)) {
      watched.add(this);
      this.on('message', (message: { done?: unknown }) => {
        if (typeof message.done === 'number') traffic.push({ done: message.done });
      });
    }
    const message = args[0] as { chunk?: Uint8Array; through?: number };
    // The first byte of a chunk message is free room for the worker, not file content.
    if (message.chunk !== undefined) traffic.push({ chunk: message.chunk.byteLength - 1 });
    if (message.through !== undefined) traffic.push({ through: message.through });
    post.apply(this, args);
  });
  try {
    return { result: await body(), traffic };
  } finally {
    spy.mockRestore();
  }
}

const sentBytes = (traffic: Traffic[]) =>
  traffic.reduce((sum, item) => sum + ('chunk' in item ? item.chunk : 0), 0);

describe('how a file is verified on two threads', () => {
  it('starts a worker for a file of exactly parallelMinBytes, and none for a smaller one', async () => {
    const text = tamper(log(12), 'none', 0);
    const path = await file(text);
    const size = Buffer.byteLength(text);
    for (const [parallelMinBytes, expected] of [
      [size, true],
      [size + 1, false],
    ] as const) {
      let started = false;
      const scanned = await verifyFileWithTree(path, 1_048_576, 5, {
        parallelMinBytes,
        chunkBytes: 100,
        onWorker: () => {
          started = true;
        },
      });
      expect(started, `parallelMinBytes ${parallelMinBytes}`).toBe(expected);
      expect(summary(scanned)).toEqual(summary(await oneThread(path, 1_048_576, 5)));
    }
  });

  it('hands the worker each byte once, although a tampered log is read twice', async () => {
    const text = tamper(log(20), 'swap', 6);
    const path = await file(text);
    const { result, traffic } = await watchWorkers(() =>
      verifyFileWithTree(path, 1_048_576, undefined, { parallelMinBytes: 0, chunkBytes: 50 }),
    );
    expect(result.verification).toMatchObject({ ok: false, problem: 'reordered', firstBadSeq: 6 });
    expect(sentBytes(traffic)).toBeGreaterThan(0);
    expect(sentBytes(traffic)).toBeLessThanOrEqual(Buffer.byteLength(text));
  });

  it('sends the worker at most one line and three chunks past the verified bytes after an over-long line', async () => {
    const lines = log(12);
    lines.splice(3, 0, `{"data":"${'x'.repeat(3000)}"}`);
    const text = lines.map((line) => `${line}\n`).join('');
    const path = await file(text);
    const [maxLineBytes, chunkBytes] = [400, 16];
    const { result, traffic } = await watchWorkers(() =>
      verifyFileWithTree(path, maxLineBytes, undefined, { parallelMinBytes: 0, chunkBytes }),
    );
    expect(result.verification).toMatchObject({ ok: false, problem: 'malformed', records: 3 });
    const bound = result.verification.intactBytes + maxLineBytes + 3 * chunkBytes;
    expect(bound).toBeLessThan(Buffer.byteLength(text));
    expect(sentBytes(traffic)).toBeLessThanOrEqual(bound);
  });

  it('with maxBehindBytes 0, reads on only once the worker has hashed every verified byte', async () => {
    const path = await file(tamper(log(1000), 'none', 0));
    const { result, traffic } = await watchWorkers(() =>
      verifyFileWithTree(path, 1_048_576, undefined, {
        parallelMinBytes: 0,
        chunkBytes: 256,
        maxBehindBytes: 0,
      }),
    );
    expect(result.verification).toMatchObject({ ok: true, records: 1000 });
    let through = 0;
    let done = 0;
    let marks = 0;
    for (const item of traffic) {
      if ('done' in item) done = Math.max(done, item.done);
      if ('through' in item) {
        // The chunk read after the previous mark waited until the worker caught up with it.
        expect(done).toBeGreaterThanOrEqual(through);
        through = item.through;
        marks++;
      }
    }
    expect(marks).toBeGreaterThan(500);
  });
});

describe('MerkleWorker fails closed', () => {
  const limits = { maxLineBytes: 4, chunkBytes: 4 };
  const failure = { code: 'AUDIT_INVALID', details: { path: 'log.jsonl', step: 'merkle-worker' } };

  async function closed(worker: MerkleWorker) {
    await worker.close();
    expect(typeof (await worker.exited)).toBe('number');
  }

  it('builds the tree of exactly the verified lines', async () => {
    const worker = new MerkleWorker('log.jsonl', 1, limits);
    await worker.add(Buffer.from('ab\nc'));
    worker.through(3);
    await worker.add(Buffer.from('d\n'));
    const { tree, rootAtSize } = await worker.finish(6, 2);
    expect(tree.size).toBe(2);
    expect(rootAtSize).toBeDefined();
    await closed(worker);
  });

  it('rejects when told bytes were verified that it never received', async () => {
    const worker = new MerkleWorker('log.jsonl', undefined, limits);
    await worker.add(Buffer.from('ab\n'));
    await expect(worker.finish(10, 1)).rejects.toMatchObject(failure);
    await expect(worker.add(Buffer.from('cd\n'))).rejects.toMatchObject(failure);
    await closed(worker);
  });

  it('rejects when the verified bytes end inside a line', async () => {
    const worker = new MerkleWorker('log.jsonl', undefined, limits);
    await worker.add(Buffer.from('abc\n'));
    await expect(worker.finish(2, 1)).rejects.toMatchObject(failure);
    await closed(worker);
  });

  it('rejects a tree with another number of records than were verified', async () => {
    const worker = new MerkleWorker('log.jsonl', undefined, limits);
    await worker.add(Buffer.from('a\nb\n'));
    await expect(worker.finish(4, 3)).rejects.toMatchObject({
      ...failure,
      message: expect.stringContaining('hashed 2 records where 3 verified'),
    });
    await closed(worker);
  });

  it('rejects a claim for bytes it held back after an over-long line', async () => {
    const worker = new MerkleWorker('log.jsonl', undefined, limits);
    for (let chunk = 0; chunk < 6; chunk++) await worker.add(Buffer.from('xxxx'));
    await expect(worker.finish(24, 1)).rejects.toMatchObject(failure);
    await closed(worker);
  });
});
