import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decisionEvent } from './__fixtures__/events.js';
import { createJsonlFileAuditSink } from './jsonl-file-sink.js';

/** While set, every `datasync` of a file the sink opens fails as a failing disk would. */
let failSyncs = false;

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      const handle = await actual.open(...args);
      const datasync = handle.datasync.bind(handle);
      handle.datasync = () =>
        failSyncs
          ? Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }))
          : datasync();
      return handle;
    },
  };
});

let directory = '';

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ape-audit-sync-'));
});

afterAll(async () => {
  failSyncs = false;
  await rm(directory, { recursive: true, force: true });
});

describe.each([false, true])('JsonlFileAuditSink whose flush fails to sync (worker: %s)', (worker) => {
  it('refuses an append that raced the failing flush, and fails closed without an unhandled error', async () => {
    failSyncs = false;
    const sink = await createJsonlFileAuditSink(join(directory, `log-${String(worker)}.jsonl`), {
      durable: false,
      worker,
    });
    await sink.append(decisionEvent(0));
    // Settled and synced: no batch is being written when the failing flush starts.
    await sink.flush();
    failSyncs = true;
    // The append starts a new batch while the flush, its queue drained, waits for its sync.
    const flushing = sink.flush();
    const appending = sink.append(decisionEvent(1));
    await expect(flushing).rejects.toMatchObject({ code: 'AUDIT_FAILURE' });
    await expect(appending).rejects.toMatchObject({ code: 'AUDIT_FAILURE' });
    // The batch that lost its records to the failure must not be written afterwards.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sink.failure?.code).toBe('AUDIT_FAILURE');
    await expect(sink.append(decisionEvent(2))).rejects.toMatchObject({ code: 'AUDIT_FAILURE' });
    failSyncs = false;
    await expect(sink.close()).rejects.toMatchObject({ code: 'AUDIT_FAILURE' });
  });
});
