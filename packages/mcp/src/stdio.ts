import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { STDIO_DEFAULT_MAX_BUFFER_SIZE } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type JSONRPCMessage, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import spawn from 'cross-spawn';
import { isOpenRecord, isPlainMeta, isPlainObject, isRequestId } from './plain-json.js';

// The stdio transports of `ape mcp proxy`: the MCP SDK's `StdioServerTransport` and
// `StdioClientTransport` (1.x), line for line in behaviour (framing, the 10 MiB line limit, errors,
// start, close, the server process's environment and shutdown), with one change: a line is checked
// against `JSONRPCMessageSchema` only when it is not a plain request, notification or result, the
// messages of nearly every exchange, which are checked without the schema. For those the schema
// would return the message unchanged (a property test checks it), so the check is the same; it
// costs a proxy two schema parses and their garbage per call less.

/** Loose `params` or `result` whose `_meta` (if any) holds none of the keys the schema checks. */
function isPlainPayload(value: unknown): boolean {
  return isOpenRecord(value) && (!Object.hasOwn(value, '_meta') || isPlainMeta(value['_meta']));
}

/**
 * Whether `value` is a JSON-RPC request, notification or result response in the subset of
 * `JSONRPCMessageSchema` that the schema returns unchanged: exactly the schema's keys, a string or
 * safe-integer id, plain `params` or `result` without a progress token or a related task in `_meta`.
 * Anything else (error responses among them) is left to the schema.
 */
export function isPlainMessage(value: unknown): value is JSONRPCMessage {
  if (!isPlainObject(value) || value['jsonrpc'] !== '2.0') return false;
  if (Object.hasOwn(value, 'method')) {
    if (typeof value['method'] !== 'string') return false;
    for (const key in value) {
      if (key !== 'jsonrpc' && key !== 'method' && key !== 'id' && key !== 'params') return false;
    }
    if (Object.hasOwn(value, 'id') && !isRequestId(value['id'])) return false;
    return !Object.hasOwn(value, 'params') || isPlainPayload(value['params']);
  }
  if (!Object.hasOwn(value, 'result') || !isRequestId(value['id'])) return false;
  for (const key in value) if (key !== 'jsonrpc' && key !== 'id' && key !== 'result') return false;
  return isPlainPayload(value['result']);
}

/** One line of stdio MCP as a message; throws as the SDK's `deserializeMessage` does. */
export function parseLine(line: string): JSONRPCMessage {
  const value: unknown = JSON.parse(line);
  return isPlainMessage(value) ? value : JSONRPCMessageSchema.parse(value);
}

/** The SDK's `ReadBuffer`: newline-delimited messages, at most `maxBufferSize` bytes buffered. */
export class LineReader {
  readonly #maxBufferSize: number;
  #buffer: Buffer | undefined;

  constructor(maxBufferSize: number = STDIO_DEFAULT_MAX_BUFFER_SIZE) {
    this.#maxBufferSize = maxBufferSize;
  }

  /** @throws Error when the buffered bytes would exceed the limit (the buffer is then emptied). */
  append(chunk: Buffer): void {
    const buffered = this.#buffer;
    if ((buffered?.length ?? 0) + chunk.length > this.#maxBufferSize) {
      this.#buffer = undefined;
      throw new Error(`ReadBuffer exceeded maximum size of ${this.#maxBufferSize} bytes`);
    }
    this.#buffer = buffered === undefined ? chunk : Buffer.concat([buffered, chunk]);
  }

  /** The next whole line's message, or `null`; throws for a line that is not a message (it is dropped). */
  next(): JSONRPCMessage | null {
    const buffer = this.#buffer;
    if (buffer === undefined) return null;
    const newline = buffer.indexOf(10);
    if (newline === -1) return null;
    // A trailing carriage return is dropped (a byte that no multi-byte character contains).
    const end = newline > 0 && buffer[newline - 1] === 13 ? newline - 1 : newline;
    const line = buffer.toString('utf8', 0, end);
    this.#buffer = newline + 1 === buffer.length ? undefined : buffer.subarray(newline + 1);
    return parseLine(line);
  }

  clear(): void {
    this.#buffer = undefined;
  }
}

const SENT: Promise<void> = Promise.resolve();

/** Writes `message` as one line; resolves at once, or on `drain` when the stream buffers. */
function writeLine(stream: Writable, message: JSONRPCMessage): Promise<void> {
  if (stream.write(`${JSON.stringify(message)}\n`)) return SENT;
  return new Promise((resolve) => stream.once('drain', resolve));
}

/**
 * Takes in `chunk` and delivers every whole line `reader` then holds, as the SDK's transports do: a
 * bad line (or a throw of `onmessage`) goes to `onerror` and the next is read; past the line limit,
 * the error goes to `onerror` and the transport closes.
 */
function receive(
  reader: LineReader,
  transport: Pick<Transport, 'onmessage' | 'onerror' | 'close'>,
  chunk: Buffer | string,
): void {
  try {
    reader.append(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  } catch (error) {
    transport.onerror?.(error as Error);
    transport.close().catch(() => undefined);
    return;
  }
  for (;;) {
    try {
      const message = reader.next();
      if (message === null) return;
      transport.onmessage?.(message);
    } catch (error) {
      transport.onerror?.(error as Error);
    }
  }
}

/** The SDK's `StdioServerTransport` for the proxy's client side (see the top of this file). */
export class ProxyStdioServerTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T) => void) | undefined;
  readonly #stdin: Readable;
  readonly #stdout: Writable;
  readonly #reader = new LineReader();
  #started = false;

  constructor(stdin: Readable = process.stdin, stdout: Writable = process.stdout) {
    this.#stdin = stdin;
    this.#stdout = stdout;
  }

  readonly #ondata = (chunk: Buffer | string): void => receive(this.#reader, this, chunk);

  readonly #onerror = (error: Error): void => {
    this.onerror?.(error);
  };

  async start(): Promise<void> {
    if (this.#started) throw new Error('The stdio transport of the proxy was already started.');
    this.#started = true;
    this.#stdin.on('data', this.#ondata);
    this.#stdin.on('error', this.#onerror);
  }

  async close(): Promise<void> {
    this.#stdin.off('data', this.#ondata);
    this.#stdin.off('error', this.#onerror);
    // Pause stdin only when nothing else reads it.
    if (this.#stdin.listenerCount('data') === 0) this.#stdin.pause();
    this.#reader.clear();
    this.onclose?.();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return writeLine(this.#stdout, message);
  }
}

/** What {@link ProxyStdioClientTransport} starts: as the SDK's `StdioServerParameters`. */
export interface ProxyServerProcess {
  readonly command: string;
  readonly args?: readonly string[];
  /** Added to the SDK's default environment (`getDefaultEnvironment`). */
  readonly env?: Readonly<Record<string, string>>;
  readonly stderr?: 'inherit' | 'ignore' | 'pipe';
  readonly cwd?: string;
}

/** How long `close` waits for the server to exit after its stdin ends, and again after SIGTERM. */
const EXIT_GRACE_MS = 2000;

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => child.once('close', () => resolve()));
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** The SDK's `StdioClientTransport` for the proxy's server side (see the top of this file). */
export class ProxyStdioClientTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T) => void) | undefined;
  readonly #server: ProxyServerProcess;
  readonly #reader = new LineReader();
  #child: ChildProcess | undefined;

  constructor(server: ProxyServerProcess) {
    this.#server = server;
  }

  /** The server process's id while it runs. */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** The server process's stderr when `stderr` is `'pipe'`. */
  get stderr(): Readable | null {
    return this.#child?.stderr ?? null;
  }

  start(): Promise<void> {
    if (this.#child !== undefined) {
      return Promise.reject(new Error('The stdio transport of the proxy was already started.'));
    }
    return new Promise((resolve, reject) => {
      const server = this.#server;
      const child = spawn(server.command, [...(server.args ?? [])], {
        env: { ...getDefaultEnvironment(), ...server.env },
        stdio: ['pipe', 'pipe', server.stderr ?? 'inherit'],
        shell: false,
        windowsHide: process.platform === 'win32',
        ...(server.cwd === undefined ? {} : { cwd: server.cwd }),
      });
      this.#child = child;
      child.on('error', (error) => {
        reject(error);
        this.onerror?.(error);
      });
      child.on('spawn', () => resolve());
      child.on('close', () => {
        this.#child = undefined;
        this.onclose?.();
      });
      child.stdin?.on('error', (error) => this.onerror?.(error));
      child.stdout?.on('data', (chunk: Buffer) => receive(this.#reader, this, chunk));
      child.stdout?.on('error', (error) => this.onerror?.(error));
    });
  }

  /** Ends the server's stdin, then waits for it to exit: SIGTERM after 2 s, SIGKILL after 2 s more. */
  async close(): Promise<void> {
    const child = this.#child;
    if (child !== undefined) {
      this.#child = undefined;
      const closed = exited(child);
      try {
        child.stdin?.end();
      } catch {
        // Already closed.
      }
      await Promise.race([closed, pause(EXIT_GRACE_MS)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([closed, pause(EXIT_GRACE_MS)]);
      }
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    this.#reader.clear();
  }

  send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#child?.stdin;
    if (stdin === undefined || stdin === null) return Promise.reject(new Error('Not connected'));
    return writeLine(stdin, message);
  }
}
