import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AuthorityManager } from '@ape/authority';
import { type AuthorityToken, hashCanonical, type TokenBinding } from '@ape/core';
import { measureAsync } from '../harness.js';
import { measuredRow, type Row } from '../report.js';
import type { BenchCase } from './context.js';
import { STEP_ACTION, STEP_ARGS, TENANT } from './session.js';
import { caseResult } from './shared.js';

/** Outstanding tokens whose memory is measured. */
const OUTSTANDING = 10_000;

function binding(stepIndex: number): TokenBinding {
  return Object.freeze({
    tenant: TENANT,
    session: 'session',
    intentVersion: 'a'.repeat(64),
    planHash: 'b'.repeat(64),
    stepIndex,
    action: STEP_ACTION,
    argsHash: hashCanonical(STEP_ARGS),
  });
}

/** A full garbage collection, or `undefined` when the runtime refuses to expose one. */
function garbageCollector(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as unknown;
    return typeof collect === 'function' ? (collect as () => void) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Issues + consumes per sample of the token row. One per sample, the sample's own timing and
 * promise hops (the empty-async row, about a third of a microsecond) would be a third of what is
 * measured; a batch spreads them, as the sub-microsecond synchronous rows do.
 */
const TOKEN_BATCH = 16;

/** How many times the memory of the outstanding tokens is measured; the median is reported. */
const MEMORY_REPETITIONS = 3;

/**
 * Heap bytes held by `count` outstanding tokens (the tokens and everything their manager keeps for
 * them), the median of {@link MEMORY_REPETITIONS} measurements, each with a new manager: one
 * measurement moves by a few hundred kilobytes with what else the heap holds (tens of bytes per
 * token at 10,000 tokens).
 */
async function memoryOfOutstandingTokens(count: number): Promise<number | undefined> {
  const collect = garbageCollector();
  if (collect === undefined) return undefined;
  const bindings = Array.from({ length: count }, (_, index) => binding(index));
  const measured: number[] = [];
  for (let repetition = 0; repetition < MEMORY_REPETITIONS; repetition++) {
    measured.push(await memoryOfOneManager(bindings, collect));
  }
  return measured.sort((a, b) => a - b)[Math.floor(MEMORY_REPETITIONS / 2)];
}

/**
 * One measurement, in a call of its own: its manager and tokens are unreachable once it returns.
 * Measured in the loop's own frame, the last repetition's tokens could stay reachable from the
 * suspended async frame until the next repetition overwrote them, after its `before` reading: that
 * repetition then read close to 0 bytes per token (seen in a full run: 11 bytes, against about 200).
 */
async function memoryOfOneManager(bindings: readonly TokenBinding[], collect: () => void): Promise<number> {
  const authority = new AuthorityManager({ tenant: TENANT, ttlMs: 3_600_000 });
  const tokens: AuthorityToken[] = [];
  collect();
  collect();
  const before = process.memoryUsage().heapUsed;
  for (const item of bindings) tokens.push(await authority.issue(item));
  collect();
  collect();
  const after = process.memoryUsage().heapUsed;
  if ((await authority.outstandingCount()) !== bindings.length || tokens.length !== bindings.length) {
    throw new Error('the authority does not hold every issued token');
  }
  return after - before;
}

/** Case 7: one token issued and consumed, and the memory of 10,000 outstanding tokens. */
export const tokensCase: BenchCase = {
  id: 'tokens',
  number: 7,
  title: 'Authority tokens: issue + consume, and memory of outstanding tokens',
  async run({ settings }) {
    const authority = new AuthorityManager({ tenant: TENANT });
    const bound = binding(0);
    const issueAndConsume = async () => authority.consume(await authority.issue(bound), bound);
    const stats = await measureAsync('token', issueAndConsume, settings, { batch: TOKEN_BATCH });
    const unbatched = await measureAsync('token-unbatched', issueAndConsume, settings);
    const empty = await measureAsync('empty', async () => undefined, settings);
    const count = settings.quick ? 100 : OUTSTANDING;
    const bytes = await memoryOfOutstandingTokens(count);
    const rows: Row[] = [
      measuredRow({
        id: 'token:issue-consume',
        engine: 'ape',
        label: `AuthorityManager issue + consume (awaited, in batches of ${TOKEN_BATCH})`,
        group: 'token',
        stats,
      }),
      measuredRow({
        id: 'token:issue-consume-unbatched',
        engine: 'ape',
        label: 'AuthorityManager issue + consume, one per sample',
        group: 'token',
        stats: unbatched,
      }),
      measuredRow({
        id: 'token:empty-async',
        engine: 'node',
        label: 'an empty async operation, one per sample (what a sample itself costs)',
        group: 'token',
        stats: empty,
      }),
      bytes === undefined
        ? {
            id: 'token:memory',
            engine: 'ape',
            label: `heap of ${count.toLocaleString('en-US')} outstanding tokens`,
            group: 'token-memory',
            status: 'unavailable',
            note: 'the garbage collector could not be exposed',
          }
        : {
            id: 'token:memory',
            engine: 'ape',
            label: `heap of ${count.toLocaleString('en-US')} outstanding tokens`,
            group: 'token-memory',
            status: 'measured',
            extra: {
              tokens: count,
              heapBytes: bytes,
              bytesPerToken: Math.round(bytes / count),
              megabytesPer10000: Number((((bytes / count) * 10_000) / 2 ** 20).toFixed(2)),
            },
            note: `${(((bytes / count) * 10_000) / 2 ** 20).toFixed(2)} MiB per 10,000 tokens (${Math.round(bytes / count)} bytes each)`,
          },
    ];
    return caseResult(
      tokensCase,
      rows,
      [],
      [
        `Issue + consume: each sample awaits ${TOKEN_BATCH} issue + consume pairs one after another and is their mean; the unbatched row awaits one pair per sample, and the empty-async row is what a sample of nothing costs (timestamps and the harness's promise hops).`,
        `Memory: heapUsed after two full collections, before and after issuing; bindings are built beforehand and not counted; the median of ${MEMORY_REPETITIONS} measurements, each with a new manager.`,
      ],
    );
  },
};
