import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AuditEvent, type AuditSink, createRuntime, defineTool } from '@ape/core';
import { createFakeAuthority, createStubPolicy, FakeClock } from '@ape/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsoleAuditSink } from './console-sink.js';
import { createJsonlFileAuditSink } from './jsonl-file-sink.js';
import { MemoryAuditSink } from './memory-sink.js';
import { TeeAuditSink } from './tee-sink.js';
import { verifyAuditLog } from './verify.js';

/** Decisions frozen all through, as `@ape/policy`'s are: the runtime then prepares each record's data text. */
const policy = createStubPolicy({
  decide: (request) =>
    Object.freeze({
      decision: request.action === 'delete_file' ? ('DENY' as const) : ('ALLOW' as const),
      rules: Object.freeze([`rule:${request.action}`]),
      reason: `"${request.action}" \\ decided\u2028`,
      policy: 'frozen-policy',
    }),
});

const tool = defineTool({ id: 'read_file', outputLabel: 'EXTERNAL_UNTRUSTED', run: () => 'ok' });

/** `sink` with its `canonicalData` hint hidden: the runtime then prepares no text. */
function withoutHint(sink: AuditSink): AuditSink {
  return {
    canonicalData: false,
    append: (event: AuditEvent) => sink.append(event),
    flush: () => sink.flush(),
    close: () => sink.close(),
  };
}

/** A session of allowed, labelled and denied calls, recorded into `sink`. */
async function session(sink: AuditSink): Promise<void> {
  const clock = new FakeClock();
  const runtime = createRuntime({
    tenant: 'acme',
    sessionId: 'session-1',
    clock,
    policy,
    authority: createFakeAuthority({ tenant: 'acme', clock }),
    audit: sink,
    auditArgs: ['path'],
  });
  await runtime.setIntent(
    { allowed_actions: ['read_file'], forbidden_actions: ['delete_file'], scope: 'test' },
    { provenance: 'USER_TRUSTED' },
  );
  await runtime.call('read_file', tool, {
    args: { path: '/a "b" \\ \u0001 😀' },
    provenance: 'USER_TRUSTED',
  });
  await runtime.call('read_file', tool, {
    args: { path: '/c', n: [1, { x: -0 }] },
    provenance: 'EXTERNAL_UNTRUSTED',
  });
  await runtime.call('delete_file', tool, { args: {}, provenance: 'USER_TRUSTED' }).catch(() => undefined);
  await runtime.terminate();
}

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('the records of a runtime in the hash-chained sinks', () => {
  it('are the same lines whether or not the runtime prepared the data text, and verify', async () => {
    const hinted = new MemoryAuditSink();
    const plain = new MemoryAuditSink();
    expect(hinted.canonicalData).toBe(true);
    await session(hinted);
    await session(withoutHint(plain));
    const lines = hinted.lines();
    expect(lines.some((line) => line.includes('"type":"decision.made"'))).toBe(true);
    expect(lines).toEqual(plain.lines());
    const verification = await verifyAuditLog(lines);
    expect(verification.ok).toBe(true);
    expect(verification.records).toBe(lines.length);
  });

  it('are the same in a JSON Lines file and through a tee, and the file verifies', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ape-runtime-lines-'));
    directories.push(directory);
    const path = join(directory, 'audit.jsonl');
    const file = await createJsonlFileAuditSink(path);
    const memory = new MemoryAuditSink();
    const tee = new TeeAuditSink([withoutHint(memory), file]);
    expect(file.canonicalData).toBe(true);
    expect(tee.canonicalData).toBe(true);
    expect(new TeeAuditSink([withoutHint(memory)]).canonicalData).toBe(false);
    const throwing = Object.defineProperty(withoutHint(memory), 'canonicalData', {
      get() {
        throw new Error('no');
      },
    });
    expect(new TeeAuditSink([throwing]).canonicalData).toBe(false);
    expect(new TeeAuditSink([throwing, file]).canonicalData).toBe(true);
    await session(tee);
    await tee.close();
    const written = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(written).toEqual(memory.lines());
    expect((await verifyAuditLog(path)).ok).toBe(true);
  });

  it('print the same through the console sink', async () => {
    const printed: string[][] = [[], []];
    const sinks = printed.map(
      (lines) =>
        new ConsoleAuditSink({
          stream: {
            write: (chunk: string, callback: (error?: Error | null) => void) => {
              lines.push(chunk);
              callback();
              return true;
            },
          },
        }),
    );
    expect(sinks[0]?.canonicalData).toBe(true);
    await session(sinks[0] as ConsoleAuditSink);
    await session(withoutHint(sinks[1] as ConsoleAuditSink));
    expect(printed[0]?.length).toBeGreaterThan(0);
    expect(printed[0]).toEqual(printed[1]);
  });
});
