import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createJsonlFileAuditSink, readAllAuditRecords, verifyAuditLog } from '@ape/audit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The writer runs in a real child process against the built package, as a host would use it.
const auditEntry = pathToFileURL(createRequire(import.meta.url).resolve('@ape/audit')).href;
const WRITER = `
import { createJsonlFileAuditSink } from ${JSON.stringify(auditEntry)};
const [path, durable, worker] = process.argv.slice(2);
const sink = await createJsonlFileAuditSink(path, {
  durable: durable === 'true',
  worker: worker === 'true',
  maxPendingRecords: 64,
});
const padding = 'x'.repeat(8192);
let n = 0;
for (;;) {
  const batch = [];
  for (let i = 0; i < 16; i++) {
    batch.push(sink.append({ type: 'decision.made', tenant: 'tenant-a', session: 'crash', time: Date.UTC(2026, 0, 1) + n, data: { n: n++, padding } }));
  }
  await Promise.all(batch);
  process.stdout.write(n + '\\n');
}
`;

let directory = '';
let script = '';

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ape-audit-crash-'));
  script = join(directory, 'writer.mjs');
  await writeFile(script, WRITER);
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/**
 * Starts the writer (with its sink's writer thread when `worker`), waits until at least `records`
 * appends were acknowledged, SIGKILLs it.
 */
async function killAfter(path: string, durable: boolean, worker: boolean, records: number): Promise<number> {
  const child: ChildProcess = spawn(process.execPath, [script, path, String(durable), String(worker)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let acknowledged = 0;
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  await new Promise<void>((resolve, reject) => {
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) acknowledged = Math.max(acknowledged, Number(line));
      if (acknowledged >= records) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', () => reject(new Error(`writer exited before being killed: ${errors}`)));
  });
  expect(await exited).toBe('SIGKILL');
  return acknowledged;
}

describe.each([
  [true, false],
  [false, false],
  [true, true],
  [false, true],
])('a JSONL audit writer SIGKILLed mid-write (durable: %s, worker: %s)', (durable, worker) => {
  it('leaves a verifying prefix holding every acknowledged record, and reopening continues the chain', async () => {
    const path = join(directory, `crash-${durable}-${worker}.jsonl`);
    const acknowledged = await killAfter(path, durable, worker, 400);

    const verification = await verifyAuditLog(path);
    expect(verification.ok).toBe(true);
    expect(verification.records).toBeGreaterThanOrEqual(acknowledged);
    // A torn tail, if the kill landed inside a write, is truncation and never tampering.
    if (verification.truncated === true) expect(verification.problem).toBe('truncated');
    else expect(verification.intactBytes).toBe((await stat(path)).size);

    const reopened = await createJsonlFileAuditSink(path);
    expect(reopened.recovery.records).toBe(verification.records);
    expect(reopened.recovery.truncated).toBe(verification.truncated === true);
    await reopened.append({
      type: 'session.created',
      tenant: 'tenant-a',
      session: 'after-crash',
      time: Date.UTC(2026, 0, 2),
      data: {},
    });
    await reopened.close();

    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: verification.records + 1 });
    const records = await readAllAuditRecords(path);
    expect(records.at(-1)).toMatchObject({ seq: verification.records, session: 'after-crash' });
    expect(records.slice(0, -1).map((record) => record.data['n'])).toEqual(
      Array.from({ length: verification.records }, (_, n) => n),
    );
  });
});
