import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { verifyAuditLog } from '@ape/audit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The JSONL sink's writer thread (option `worker`) in a real child process against the built
// package: the thread must neither keep a process alive that is done nor let one exit with records
// appended and not yet written.
const auditEntry = pathToFileURL(createRequire(import.meta.url).resolve('@ape/audit')).href;
const CHILD = `
import { createJsonlFileAuditSink } from ${JSON.stringify(auditEntry)};
const [path, mode] = process.argv.slice(2);
const sink = await createJsonlFileAuditSink(path, { worker: true });
const event = (n) => ({ type: 'decision.made', tenant: 't', session: 's', time: n, data: { n } });
await sink.append(event(0));
// Appended, never awaited, and the sink never closed: the records must reach the file first.
for (let n = 1; n < 20_000; n++) void sink.append(event(n));
if (mode === 'close') await sink.close();
`;

let directory = '';
let script = '';

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ape-audit-thread-'));
  script = join(directory, 'child.mjs');
  await writeFile(script, CHILD);
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('a JSONL sink with a writer thread in a process that ends', () => {
  it.each(['close', 'leave open'])(
    'exits by itself with every appended record written (%s)',
    async (mode) => {
      const path = join(directory, `${mode}.jsonl`);
      const child = spawnSync(process.execPath, [script, path, mode], { encoding: 'utf8', timeout: 60_000 });
      expect(child.error).toBeUndefined();
      expect(child.status, child.stderr).toBe(0);
      expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: 20_000 });
    },
  );
});
