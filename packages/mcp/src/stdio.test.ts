import { PassThrough } from 'node:stream';
import { ReadBuffer } from '@modelcontextprotocol/sdk/shared/stdio.js';
import { type JSONRPCMessage, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { asParsed, metaLike, mostly, oddObject, rarely } from './__fixtures__/near-shapes.js';
import {
  isPlainMessage,
  LineReader,
  parseLine,
  ProxyStdioClientTransport,
  ProxyStdioServerTransport,
} from './stdio.js';

const payload = mostly(
  fc.record({ name: rarely(fc.string()), value: rarely(fc.jsonValue()), _meta: rarely(metaLike) }),
  oddObject,
);

/** Messages near the JSON-RPC shapes: requests, notifications, results, errors, each field varied. */
const messageLike = fc.record({
  jsonrpc: mostly(fc.constant('2.0'), fc.constantFrom('1.0', 2)),
  id: rarely(
    mostly(
      fc.oneof(fc.string(), fc.integer()),
      fc.oneof(fc.double(), fc.constant(null), fc.constant(2 ** 60)),
    ),
  ),
  method: rarely(mostly(fc.string(), fc.integer())),
  params: rarely(payload),
  result: rarely(payload),
  error: rarely(fc.record({ code: fc.integer(), message: fc.string() })),
  extra: rarely(fc.jsonValue()),
});

describe('isPlainMessage', () => {
  it('accepts only messages the SDK schema accepts and returns unchanged', () => {
    let plain = 0;
    fc.assert(
      fc.property(messageLike, (generated) => {
        const message = asParsed(generated);
        if (!isPlainMessage(message)) return;
        plain += 1;
        const parsed = JSONRPCMessageSchema.safeParse(message);
        expect(parsed.success).toBe(true);
        expect(message).toStrictEqual(parsed.data);
      }),
      { numRuns: 5000 },
    );
    expect(plain).toBeGreaterThan(300);
  });

  it('accepts the usual exchange and leaves errors, progress and odd shapes to the schema', () => {
    for (const message of [
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'a', arguments: {} } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 'x', result: { content: [] } },
      { jsonrpc: '2.0', id: 2, result: {} },
    ]) {
      expect(isPlainMessage(message)).toBe(true);
    }
    for (const message of [
      { jsonrpc: '2.0', id: 1, error: { code: 1, message: 'm' } },
      { jsonrpc: '2.0', id: 1, method: 'a', params: { _meta: { progressToken: 1 } } },
      { jsonrpc: '2.0', id: 1, method: 'a', params: [] },
      { jsonrpc: '2.0', id: 1.5, method: 'a' },
      { jsonrpc: '2.0', method: 'a', extra: 1 },
      { jsonrpc: '2.0', result: {} },
      { jsonrpc: '2.0', id: 1, result: JSON.parse('{"__proto__": {}}') },
      [{ jsonrpc: '2.0', method: 'a' }],
    ]) {
      expect(isPlainMessage(message)).toBe(false);
    }
  });
});

/** What the SDK's `ReadBuffer` makes of `chunks`, and what `LineReader` makes of them. */
function both(chunks: readonly Buffer[], maxBufferSize?: number): [unknown[], unknown[]] {
  const outcomes = (append: (chunk: Buffer) => void, next: () => JSONRPCMessage | null): unknown[] => {
    const seen: unknown[] = [];
    for (const chunk of chunks) {
      try {
        append(chunk);
      } catch (error) {
        seen.push({ append: (error as Error).message });
        continue;
      }
      for (;;) {
        try {
          const message = next();
          if (message === null) break;
          seen.push({ message });
        } catch (error) {
          seen.push({ error: (error as Error).name });
        }
      }
    }
    return seen;
  };
  const sdk = new ReadBuffer(maxBufferSize === undefined ? undefined : { maxBufferSize });
  const ours = new LineReader(maxBufferSize);
  return [
    outcomes(
      (chunk) => sdk.append(chunk),
      () => sdk.readMessage(),
    ),
    outcomes(
      (chunk) => ours.append(chunk),
      () => ours.next(),
    ),
  ];
}

describe('LineReader', () => {
  const line = fc.oneof(
    messageLike.map((message) => JSON.stringify(message)),
    fc.string(),
    fc.constantFrom('{"jsonrpc":"2.0","method":"é"}', 'not json', '', '{"jsonrpc":"2.0","id":1,"result":{}}'),
  );

  it('reads any split of any lines as the SDK ReadBuffer does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(line, fc.constantFrom('\n', '\r\n')), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.option(fc.integer({ min: 16, max: 400 }), { nil: undefined }),
        (lines, cuts, maxBufferSize) => {
          const bytes = Buffer.from(lines.map(([text, end]) => text + end).join(''), 'utf8');
          const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks: Buffer[] = [];
          let from = 0;
          for (const point of [...points, bytes.length]) {
            if (point > from) chunks.push(bytes.subarray(from, point));
            from = Math.max(from, point);
          }
          const [sdk, ours] = both(chunks, maxBufferSize);
          expect(ours).toStrictEqual(sdk);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('refuses more than its limit, empties itself and reads on', () => {
    const reader = new LineReader(32);
    reader.append(Buffer.from('{"jsonrpc":"2.0",'));
    expect(() => reader.append(Buffer.from('"method":"a-long-method-name"}\n'))).toThrow(
      'ReadBuffer exceeded maximum size of 32 bytes',
    );
    expect(reader.next()).toBeNull();
    reader.append(Buffer.from('{"jsonrpc":"2.0","method":"a"}\r\n'));
    expect(reader.next()).toEqual({ jsonrpc: '2.0', method: 'a' });
  });

  it('throws for a line that is not JSON or not a message, as the SDK does', () => {
    expect(() => parseLine('{')).toThrow(SyntaxError);
    expect(() => parseLine('{"jsonrpc":"1.0","method":"a"}')).toThrow(
      expect.objectContaining({ name: 'ZodError' }),
    );
    expect(parseLine('{"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"m"}}')).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -1, message: 'm' },
    });
  });
});

describe('ProxyStdioServerTransport', () => {
  it('delivers each line, reports a bad one and reads on, writes lines, and closes', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const transport = new ProxyStdioServerTransport(stdin, stdout);
    const messages: unknown[] = [];
    const errors: Error[] = [];
    const closed = vi.fn();
    transport.onmessage = (message) => messages.push(message);
    transport.onerror = (error) => errors.push(error);
    transport.onclose = closed;
    await transport.start();
    await expect(transport.start()).rejects.toThrow(/already started/);
    stdin.write('{"jsonrpc":"2.0","id":1,"method":"ping"}\nnot json\n{"jsonrpc":"2.0",');
    stdin.write('"method":"notifications/initialized"}\n');
    await vi.waitFor(() => expect(messages).toHaveLength(2));
    expect(messages).toEqual([
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
    ]);
    expect(errors.map((error) => error.name)).toEqual(['SyntaxError']);
    await transport.send({ jsonrpc: '2.0', id: 1, result: {} });
    expect(stdout.read()?.toString()).toBe('{"jsonrpc":"2.0","id":1,"result":{}}\n');
    await transport.close();
    expect(closed).toHaveBeenCalledOnce();
    expect(stdin.isPaused()).toBe(true);
    expect(stdin.listenerCount('data')).toBe(0);
  });

  it('reports a throw of its message handler and delivers the next line, as the SDK does', async () => {
    const stdin = new PassThrough();
    const transport = new ProxyStdioServerTransport(stdin, new PassThrough());
    const messages: unknown[] = [];
    const errors: Error[] = [];
    transport.onmessage = (message) => {
      messages.push(message);
      if (messages.length === 1) throw new Error('the handler broke');
    };
    transport.onerror = (error) => errors.push(error);
    await transport.start();
    stdin.write('{"jsonrpc":"2.0","method":"a"}\n{"jsonrpc":"2.0","method":"b"}\n');
    await vi.waitFor(() => expect(messages).toHaveLength(2));
    expect(errors.map((error) => error.message)).toEqual(['the handler broke']);
    expect(stdin.listenerCount('data')).toBe(1);
  });

  it('closes when a client sends more than the line limit without a newline', async () => {
    const stdin = new PassThrough();
    const transport = new ProxyStdioServerTransport(stdin, new PassThrough());
    const errors: Error[] = [];
    const closed = vi.fn();
    transport.onerror = (error) => errors.push(error);
    transport.onclose = closed;
    await transport.start();
    stdin.write(Buffer.alloc(10 * 1024 * 1024 + 1, 0x20));
    await vi.waitFor(() => expect(closed).toHaveBeenCalledOnce());
    expect(errors[0]?.message).toMatch(/exceeded maximum size/);
  });
});

describe('ProxyStdioClientTransport', () => {
  let open: ProxyStdioClientTransport | undefined;
  afterEach(async () => {
    await open?.close();
    open = undefined;
  });

  const echo = "process.stdin.on('data', (chunk) => process.stdout.write(chunk));";

  it('starts the server, exchanges lines with it, and ends it by closing its stdin', async () => {
    const transport = new ProxyStdioClientTransport({
      command: process.execPath,
      args: ['-e', `${echo} process.stdin.on('end', () => process.exit(0));`],
      env: { APE_STDIO_TEST: '1' },
      stderr: 'pipe',
    });
    open = transport;
    const messages: unknown[] = [];
    const closed = vi.fn();
    transport.onmessage = (message) => messages.push(message);
    transport.onclose = closed;
    await transport.start();
    expect(transport.pid).toEqual(expect.any(Number));
    expect(transport.stderr).not.toBeNull();
    await transport.send({ jsonrpc: '2.0', id: 'ape:1', method: 'tools/call', params: { name: 'a' } });
    await vi.waitFor(() => expect(messages).toHaveLength(1));
    expect(messages[0]).toEqual({ jsonrpc: '2.0', id: 'ape:1', method: 'tools/call', params: { name: 'a' } });
    await transport.close();
    expect(closed).toHaveBeenCalledOnce();
    expect(transport.pid).toBeNull();
    await expect(transport.send({ jsonrpc: '2.0', method: 'a' })).rejects.toThrow('Not connected');
  });

  it('passes the environment on: the default variables and the given ones', async () => {
    const transport = new ProxyStdioClientTransport({
      command: process.execPath,
      args: [
        '-e',
        "process.stdout.write(JSON.stringify({ jsonrpc: '2.0', method: 'env', params: { given: process.env.APE_STDIO_TEST, path: process.env.PATH === undefined ? 'none' : 'set', other: process.env.APE_NOT_PASSED ?? 'none' } }) + '\\n'); process.stdin.resume();",
      ],
      env: { APE_STDIO_TEST: 'yes' },
    });
    open = transport;
    process.env['APE_NOT_PASSED'] = 'leak';
    const messages: unknown[] = [];
    transport.onmessage = (message) => messages.push(message);
    try {
      await transport.start();
      await vi.waitFor(() => expect(messages).toHaveLength(1));
    } finally {
      delete process.env['APE_NOT_PASSED'];
    }
    expect(messages[0]).toMatchObject({ params: { given: 'yes', path: 'set', other: 'none' } });
  });

  it('stops a server that ignores the end of its stdin with SIGTERM', async () => {
    const transport = new ProxyStdioClientTransport({
      command: process.execPath,
      args: ['-e', 'setInterval(() => {}, 1000);'],
    });
    open = transport;
    const closed = vi.fn();
    transport.onclose = closed;
    await transport.start();
    const started = Date.now();
    await transport.close();
    expect(closed).toHaveBeenCalledOnce();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  });

  it('rejects start and reports the error when the command cannot be started', async () => {
    const transport = new ProxyStdioClientTransport({ command: '/nonexistent/ape-stdio-test-server' });
    const errors: Error[] = [];
    transport.onerror = (error) => errors.push(error);
    await expect(transport.start()).rejects.toMatchObject({ code: 'ENOENT' });
    expect(errors).toHaveLength(1);
  });
});
