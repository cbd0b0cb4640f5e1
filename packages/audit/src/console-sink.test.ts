import { runAuditSinkContract } from '@ape/core/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decisionEvent } from './__fixtures__/events.js';
import { type AuditOutputStream, ConsoleAuditSink } from './console-sink.js';

class CapturingStream implements AuditOutputStream {
  readonly chunks: string[] = [];
  constructor(readonly isTTY = false) {}
  write(chunk: string, callback: (error?: Error | null) => void): boolean {
    this.chunks.push(chunk);
    queueMicrotask(() => callback());
    return true;
  }
}

class ConsoleUnderTest extends ConsoleAuditSink {
  constructor(readonly stream: CapturingStream) {
    super({ stream, color: false });
  }
}

const LINE = /^(\S+) ([^/\s]+)\/(\S+) #\d+ (\S+)(.*)\n$/;

runAuditSinkContract('ConsoleAuditSink', () => new ConsoleUnderTest(new CapturingStream()), {
  read: (sink) =>
    sink.stream.chunks.map((chunk) => {
      const [, , tenant, session, type, rest] = LINE.exec(chunk) ?? [];
      const n = /\bn=(\d+)/.exec(rest ?? '')?.[1];
      const decision = /\bdecision=(\w+)/.exec(rest ?? '')?.[1];
      return {
        tenant: tenant ?? '',
        session: session ?? '',
        type: type ?? '',
        data: { n: Number(n), decision },
      };
    }),
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('ConsoleAuditSink', () => {
  it('writes one readable line per event with the redacted data', async () => {
    const stream = new CapturingStream();
    const sink = new ConsoleAuditSink({ stream });
    await sink.append(
      decisionEvent(0, { data: { action: 'write_file', decision: 'DENY', args: { content: 'hunter2' } } }),
    );
    expect(stream.chunks).toHaveLength(1);
    const line = stream.chunks[0]!;
    expect(line).toMatch(
      /^2026-01-01T00:00:00\.000Z tenant-a\/session-1 #0 decision\.made action=write_file args=\{"argNames":\["content"\],"argsDigest":"[0-9a-f]{20}/,
    );
    expect(line).toContain('decision=DENY');
    expect(line).not.toContain('hunter2');
    expect(line).not.toContain('\u001b[');
  });

  it('escapes terminal control characters coming from the data', async () => {
    const stream = new CapturingStream();
    const sink = new ConsoleAuditSink({ stream, color: false });
    await sink.append(decisionEvent(0, { data: { reason: 'ok\u001b[2J\u009b31m\u202edone\nfake line' } }));
    const line = stream.chunks[0]!;
    for (const unsafe of ['\u001b', '\u009b', '\u202e']) expect(line).not.toContain(unsafe);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(line).toContain('\\x9b');
  });

  it('escapes bidi isolates and zero-width characters in keys, which could disguise a field', async () => {
    const stream = new CapturingStream();
    const sink = new ConsoleAuditSink({ stream, color: false });
    await sink.append(decisionEvent(0, { data: { 'pa\u200bth\u2066': '/etc/passwd' } }));
    const line = stream.chunks[0]!;
    for (const unsafe of ['\u200b', '\u2066']) expect(line).not.toContain(unsafe);
    expect(line).toContain('pa\\u200bth\\u2066=/etc/passwd');
  });

  it('colours a TTY unless NO_COLOR is set', async () => {
    const tty = new CapturingStream(true);
    vi.stubEnv('NO_COLOR', '');
    await new ConsoleAuditSink({ stream: tty }).append(decisionEvent(0));
    expect(tty.chunks[0]).toContain('\u001b[32m');
    vi.stubEnv('NO_COLOR', '1');
    const plain = new CapturingStream(true);
    await new ConsoleAuditSink({ stream: plain }).append(decisionEvent(0));
    expect(plain.chunks[0]).not.toContain('\u001b[');
  });

  it('cuts long values', async () => {
    const stream = new CapturingStream();
    await new ConsoleAuditSink({ stream, maxValueLength: 10 }).append(
      decisionEvent(0, { data: { reason: 'x'.repeat(50) } }),
    );
    expect(stream.chunks[0]).toContain(`reason=${'x'.repeat(10)}…`);
  });

  it('rejects with AUDIT_FAILURE when the stream fails', async () => {
    const stream: AuditOutputStream = {
      write: (_chunk, callback) => {
        queueMicrotask(() => callback(new Error('EPIPE')));
        return false;
      },
    };
    await expect(new ConsoleAuditSink({ stream }).append(decisionEvent(0))).rejects.toMatchObject({
      code: 'AUDIT_FAILURE',
    });
  });

  it('rejects an append after close with AUDIT_FAILURE', async () => {
    const sink = new ConsoleAuditSink({ stream: new CapturingStream() });
    await sink.close();
    await expect(sink.append(decisionEvent(0))).rejects.toMatchObject({ code: 'AUDIT_FAILURE' });
  });
});
