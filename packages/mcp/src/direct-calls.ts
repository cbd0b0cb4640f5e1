import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  type CallToolRequest,
  type CallToolResult,
  CallToolResultSchema,
  CancelledNotificationSchema,
  ErrorCode,
  isJSONRPCErrorResponse,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type MessageExtraInfo,
  McpError,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { isOpenRecord, isPlainMeta, isPlainObject, isRequestId } from './plain-json.js';

// The gateway answers the common `tools/call` itself instead of through the SDK's `Protocol` on both
// of its sides (a request handler, an `AbortController`, a response handler and several failed
// schema matches per message). Everything here mirrors what the SDK (1.x) does for the same
// message: the same validation (the usual shapes checked without the SDK's schemas, see
// plain-json.ts, everything else with them), the same messages on the wire, the same errors,
// timeouts and cancellations. Any message it is not sure of goes to the SDK unchanged.

/** Takes an incoming message before the SDK sees it; `true` when taken. Never throws. */
type Take = (message: JSONRPCMessage) => boolean;

/**
 * A transport in front of another: every incoming message is offered to `take` first, and only
 * what it leaves reaches the SDK that connected this transport. Sending, closing and the session
 * are the inner transport's.
 */
export class InterceptedTransport implements Transport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;
  readonly #inner: Transport;
  readonly #take: Take;
  readonly #closed: () => void;
  readonly #sending: ((message: JSONRPCMessage) => void) | undefined;

  /**
   * @param take offered every incoming message first
   * @param closed called when the inner transport closes, before `onclose`
   * @param sending shown every message the SDK sends through this transport
   */
  constructor(
    inner: Transport,
    take: Take,
    closed: () => void = () => undefined,
    sending?: (message: JSONRPCMessage) => void,
  ) {
    this.#inner = inner;
    this.#take = take;
    this.#closed = closed;
    this.#sending = sending;
  }

  get sessionId(): string | undefined {
    return this.#inner.sessionId;
  }

  setProtocolVersion(version: string): void {
    this.#inner.setProtocolVersion?.(version);
  }

  start(): Promise<void> {
    const inner = this.#inner;
    inner.onmessage = (message, extra) => {
      let taken = false;
      try {
        taken = this.#take(message);
      } catch {
        taken = false;
      }
      if (!taken) this.onmessage?.(message, extra);
    };
    inner.onclose = () => {
      this.#closed();
      this.onclose?.();
    };
    inner.onerror = (error) => this.onerror?.(error);
    return inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    this.#sending?.(message);
    return this.#inner.send(message, options);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/** The `params` of a `tools/call` request as the SDK's schema returns them. */
export type ToolCallParams = CallToolRequest['params'];

/** A text content block with nothing but its `type` and `text`. */
function isPlainText(item: unknown): boolean {
  if (!isPlainObject(item) || item['type'] !== 'text' || typeof item['text'] !== 'string') return false;
  for (const key in item) if (key !== 'type' && key !== 'text') return false;
  return true;
}

/**
 * The parameters of `message` when it is a `tools/call` request the gateway answers directly, or
 * `undefined` (the SDK then handles it). Accepted is a subset of what the SDK's schemas accept
 * (`JSONRPCRequestSchema`, `CallToolRequestSchema`), checked without them: a plain JSON-RPC request
 * with a string or safe-integer id and `params` of `name`, `arguments` (a plain object) and `_meta`
 * (a plain object without a progress token or a related task) only. For such a message the
 * schemas' result equals the message's own `params` (a property test checks both), so the gateway
 * uses them as they are.
 */
export function directToolCall(message: unknown): ToolCallParams | undefined {
  if (!isPlainObject(message) || message['jsonrpc'] !== '2.0' || message['method'] !== 'tools/call')
    return undefined;
  const id = message['id'];
  if (!isRequestId(id)) return undefined;
  for (const key in message) {
    if (key !== 'jsonrpc' && key !== 'id' && key !== 'method' && key !== 'params') return undefined;
  }
  const params = message['params'];
  if (!isPlainObject(params) || typeof params['name'] !== 'string') return undefined;
  for (const key in params) {
    const value = params[key];
    if (key === 'arguments') {
      if (!isOpenRecord(value)) return undefined;
    } else if (key === '_meta') {
      if (!isPlainMeta(value)) return undefined;
    } else if (key !== 'name') {
      return undefined;
    }
  }
  return params as ToolCallParams;
}

/**
 * `result` when it is a `tools/call` result in the subset the gateway checks without the SDK's
 * `CallToolResultSchema`: a plain object of `content` (text blocks of `type` and `text` only),
 * `structuredContent` (a plain object), `isError` (a boolean) and `_meta` (a plain object without
 * a progress token or a related task). The schema accepts each such result and returns it
 * unchanged (a property test checks it); anything else is `undefined` and goes to the schema.
 */
export function plainToolResult(result: unknown): CallToolResult | undefined {
  if (!isPlainObject(result) || !Array.isArray(result['content'])) return undefined;
  for (const key in result) {
    const value = result[key];
    if (key === 'content') {
      if (Object.getPrototypeOf(value) !== Array.prototype) return undefined;
      for (const item of value as unknown[]) if (!isPlainText(item)) return undefined;
    } else if (key === 'structuredContent') {
      if (!isOpenRecord(value)) return undefined;
    } else if (key === 'isError') {
      if (typeof value !== 'boolean') return undefined;
    } else if (key === '_meta') {
      if (!isPlainMeta(value)) return undefined;
    } else {
      return undefined;
    }
  }
  return result as CallToolResult;
}

/** The `result` of a plain JSON-RPC result response (`jsonrpc`, `id` and `result` only), else `undefined`. */
function plainResponseResult(message: unknown): unknown {
  if (!isPlainObject(message) || message['jsonrpc'] !== '2.0') return undefined;
  for (const key in message) if (key !== 'jsonrpc' && key !== 'id' && key !== 'result') return undefined;
  return message['result'];
}

/**
 * The request id and reason of a `notifications/cancelled` message, as the SDK reads them (it
 * ignores a cancellation without a truthy `requestId`); `undefined` for anything else.
 */
export function cancellationOf(message: JSONRPCMessage): { id: RequestId; reason: unknown } | undefined {
  if ((message as { method?: unknown }).method !== 'notifications/cancelled') return undefined;
  const parsed = CancelledNotificationSchema.safeParse(message);
  if (!parsed.success) return undefined;
  const { requestId, reason } = parsed.data.params;
  return requestId ? { id: requestId, reason } : undefined;
}

/** The `AbortSignal` reason of an abort without a reason. */
function abortReason(reason: unknown): unknown {
  return reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** One `tools/call` the gateway answers directly: what an `AbortSignal` would be for it. */
export class DirectCall {
  #aborted = false;
  #reason: unknown;
  #onabort: ((reason: unknown) => void) | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** Runs `listener` once when the call is cancelled (at once when it already is). */
  onAbort(listener: (reason: unknown) => void): void {
    if (this.#aborted) listener(this.#reason);
    else this.#onabort = listener;
  }

  /** The client cancelled the call (`notifications/cancelled`). */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = abortReason(reason);
    const listener = this.#onabort;
    this.#onabort = undefined;
    listener?.(this.#reason);
  }
}

/** The JSON-RPC response the SDK's request handling sends for a handler's result or error. */
export function responseTo(
  id: RequestId,
  outcome: { result: CallToolResult } | { error: unknown },
): JSONRPCMessage {
  if ('result' in outcome) return { result: outcome.result, jsonrpc: '2.0', id };
  const error = outcome.error as { code?: unknown; message?: unknown; data?: unknown };
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: Number.isSafeInteger(error.code) ? (error.code as number) : ErrorCode.InternalError,
      message: typeof error.message === 'string' ? error.message : 'Internal error',
      ...(error.data === undefined ? {} : { data: error.data }),
    },
  };
}

interface Pending {
  readonly resolve: (result: CallToolResult) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * `tools/call` requests to the downstream server without the SDK client's `Protocol`: ids of their
 * own (`"ape:1"`, `"ape:2"`, ..., never a number the SDK client uses), the SDK client's timeout,
 * cancellation, result validation and close behaviour.
 */
export class DirectDownstream {
  readonly #transport: Transport;
  readonly #timeoutMs: number;
  readonly #pending = new Map<string, Pending>();
  #next = 0;
  #closed = false;

  constructor(transport: Transport, timeoutMs: number) {
    this.#transport = transport;
    this.#timeoutMs = timeoutMs;
  }

  /** Takes the downstream answer to one of this object's requests. */
  take(message: JSONRPCMessage): boolean {
    if (this.#pending.size === 0) return false;
    const id = (message as { id?: unknown }).id;
    if (typeof id !== 'string') return false;
    const pending = this.#pending.get(id);
    if (pending === undefined) return false;
    const plain = plainToolResult(plainResponseResult(message));
    if (plain !== undefined) {
      this.#settled(id, pending);
      pending.resolve(plain);
      return true;
    }
    if (isJSONRPCResultResponse(message)) {
      this.#settled(id, pending);
      const parsed = CallToolResultSchema.safeParse(message.result);
      if (parsed.success) pending.resolve(parsed.data);
      else pending.reject(parsed.error);
      return true;
    }
    if (isJSONRPCErrorResponse(message)) {
      this.#settled(id, pending);
      pending.reject(McpError.fromError(message.error.code, message.error.message, message.error.data));
      return true;
    }
    return false;
  }

  /**
   * Sends `tools/call` with `params` and resolves with the result as the SDK's schema returns it.
   * Rejects like the SDK client: the server's error as an `McpError`, a refused result with the
   * schema's error, `RequestTimeout` after the timeout, the cancellation's reason as an `McpError`
   * when `call` is aborted (the server is then told, `notifications/cancelled`), `ConnectionClosed`
   * when the transport closes.
   */
  call(params: ToolCallParams, call: DirectCall): Promise<CallToolResult> {
    return new Promise<CallToolResult>((resolve, reject) => {
      if (this.#closed) {
        reject(new Error('Not connected'));
        return;
      }
      if (call.aborted) {
        reject(call.reason);
        return;
      }
      this.#next += 1;
      const id = `ape:${this.#next}`;
      const cancel = (reason: unknown): void => {
        const pending = this.#pending.get(id);
        if (pending === undefined) return;
        this.#settled(id, pending);
        this.#transport
          .send({
            jsonrpc: '2.0',
            method: 'notifications/cancelled',
            params: { requestId: id, reason: String(reason) },
          })
          .catch(() => undefined);
        reject(reason instanceof McpError ? reason : new McpError(ErrorCode.RequestTimeout, String(reason)));
      };
      const timeout = this.#timeoutMs;
      const timer = setTimeout(
        () => cancel(McpError.fromError(ErrorCode.RequestTimeout, 'Request timed out', { timeout })),
        timeout,
      );
      this.#pending.set(id, { resolve, reject, timer });
      call.onAbort(cancel);
      const failed = (error: unknown): void => {
        const pending = this.#pending.get(id);
        if (pending === undefined) return;
        this.#settled(id, pending);
        reject(error);
      };
      try {
        this.#transport.send({ method: 'tools/call', params, jsonrpc: '2.0', id }).catch(failed);
      } catch (error) {
        failed(error);
      }
    });
  }

  /** The transport closed: every waiting call fails as the SDK client's would. */
  close(): void {
    this.#closed = true;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    const error = McpError.fromError(ErrorCode.ConnectionClosed, 'Connection closed');
    for (const entry of pending) {
      clearTimeout(entry.timer);
      entry.reject(error);
    }
  }

  #settled(id: string, pending: Pending): void {
    this.#pending.delete(id);
    clearTimeout(pending.timer);
  }
}
