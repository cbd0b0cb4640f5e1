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
 * the steps that completed (every record of a step written, and fsynced when durable).
 */
async function measureFileSink(
  durable: boolean,
  quick: boolean,
): Promise<{ row: Omit<Row, 'id' | 'label'>; bytes: number }> {
  const directory = mkdtempSync(join(tmpdir(), 'ape-bench-'));
  const path = join(directory, 'audit.jsonl');
  try {
    const sink = await createJsonlFileAuditSink(path, { durable });
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
        group: durable ? 'durable' : 'written',
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
    const durable = await measureFileSink(true, settings.quick);
    const written = await measureFileSink(false, settings.quick);
    const rows: Row[] = [
      {
        ...durable.row,
        id: 'steps:durable',
        label: 'executeStep, durable: true (datasync per batch, group commit)',
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
          'issue 18: durable steps per second',
          rows[0],
          80_000,
          'steps/s',
        ),
      ],
      [
        'ops/s is the aggregate throughput (completed steps / wall time); mean, p50 and p99 are the latency of one step under that load.',
        `Group commit: records appended while a write+datasync is in flight, and those queued in the same turn of the event loop, form the next batch (groupCommitMs 0, maxPendingRecords 1024). The file is in ${tmpdir()}.`,
        `Log size: ${Math.round(durable.bytes / Math.max(1, durable.row.stats?.samples ?? 1))} bytes per step (session set-up records included).`,
      ],
    );
  },
};
