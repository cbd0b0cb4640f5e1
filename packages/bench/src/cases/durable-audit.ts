import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJsonlFileAuditSink } from '@ape/audit';
import { AuthorityManager } from '@ape/authority';
import type { AgentRuntime } from '@ape/core';
import { compilePolicy } from '@ape/policy';
import { statsOf } from '../harness.js';
import type { Row } from '../report.js';
import { targetAtLeastRate } from '../targets.js';
import { threeListDocument } from '../workloads.js';
import type { BenchCase } from './context.js';
import { openSession, runNextStep, TENANT } from './session.js';
import { caseResult } from './shared.js';

/** Concurrent sessions sharing one sink: group commit needs several appends in flight. */
const SESSIONS = 256;

/** How long the steps run, in milliseconds. */
const DURATION_MS = 2000;

/**
 * Runs `SESSIONS` sessions concurrently against one JSONL file sink for a fixed time and counts
 * the steps that completed (every record of a step written, and fsynced when durable). With
 * `worker`, the sink hashes, writes and syncs on its writer thread.
 */
async function measureFileSink(
  durable: boolean,
  worker: boolean,
  quick: boolean,
): Promise<{ row: Omit<Row, 'id' | 'label'>; bytes: number }> {
  const directory = mkdtempSync(join(tmpdir(), 'ape-bench-'));
  const path = join(directory, 'audit.jsonl');
  try {
    const sink = await createJsonlFileAuditSink(path, { durable, worker });
    const policy = compilePolicy(threeListDocument());
    const authority = new AuthorityManager({ tenant: TENANT });
    const sessions = quick ? 2 : SESSIONS;
    const duration = quick ? 0 : DURATION_MS;
    const stepsPerSession = quick ? 1 : 1_000;
    const runtimes: AgentRuntime[] = [];
    for (let index = 0; index < sessions; index++) {
      runtimes.push(await openSession({ policy, authority, audit: sink }, stepsPerSession));
    }
    await sink.flush();
    const latencies: number[] = [];
    const started = performance.now();
    const deadline = started + duration;
    await Promise.all(
      runtimes.map(async (runtime) => {
        do {
          const before = performance.now();
          await runNextStep(runtime);
          latencies.push((performance.now() - before) * 1000);
        } while (performance.now() < deadline && runtime.nextStepIndex < stepsPerSession);
      }),
    );
    const elapsedMs = performance.now() - started;
    await sink.close();
    const stepsPerSecond = (latencies.length * 1000) / elapsedMs;
    return {
      row: {
        engine: 'ape',
        group: durable ? (worker ? 'durable-thread' : 'durable') : 'written',
        status: 'measured',
        stats: statsOf(latencies, stepsPerSecond),
        extra: { sessions, steps: latencies.length, seconds: Number((elapsedMs / 1000).toFixed(3)) },
      },
      bytes: statSync(path).size,
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Case 6: steps per second with the JSONL file sink, durable (fsync per batch) and not. */
export const durableAuditCase: BenchCase = {
  id: 'durable-audit',
  number: 6,
  title: `Gated steps with JsonlFileAuditSink, ${SESSIONS} concurrent sessions sharing one file`,
  async run({ settings }) {
    const durable = await measureFileSink(true, false, settings.quick);
    const thread = await measureFileSink(true, true, settings.quick);
    const written = await measureFileSink(false, false, settings.quick);
    const rows: Row[] = [
      {
        ...durable.row,
        id: 'steps:durable',
        label: 'executeStep, durable: true (datasync per batch, group commit)',
      },
      {
        ...thread.row,
        id: 'steps:durable-thread',
        label: 'executeStep, durable: true, worker: true (hash, write and datasync on the writer thread)',
      },
      {
        ...written.row,
        id: 'steps:written',
        label: 'executeStep, durable: false (written, fsync on flush/close)',
      },
    ];
    return caseResult(
      durableAuditCase,
      rows,
      [
        targetAtLeastRate('case6-durable', 'case 6: durable steps per second', rows[0], 50_000, 'steps/s'),
        targetAtLeastRate(
          'issue18-durable',
          'issue 18: durable steps per second (writer thread)',
          rows[1],
          80_000,
          'steps/s',
        ),
      ],
      [
        'ops/s is the aggregate throughput (completed steps / wall time); mean, p50 and p99 are the latency of one step under that load.',
        `Group commit: records appended while a write+datasync is in flight, and those queued in the same turn of the event loop, form the next batch (groupCommitMs 0, maxPendingRecords 1024). The file is in ${tmpdir()}.`,
        "worker: true: the main thread checks, redacts and serialises each record and sends its bytes to the sink's writer thread in batches of up to 128 records (or at the end of the turn); the thread puts each prev into its line, hashes it, and writes and datasyncs every batch that arrived meanwhile at once. Same bytes, same guarantee (an append resolves once its batch is synced). Issue 18's target is read on this row; case 6's on the default row.",
        `Log size: ${Math.round(durable.bytes / Math.max(1, durable.row.stats?.samples ?? 1))} bytes per step (session set-up records included).`,
      ],
    );
  },
};
