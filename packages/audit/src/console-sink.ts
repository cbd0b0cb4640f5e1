import { type AuditEvent, AuditError, type AuditSink, canonicalJson, escapeTerminalText } from '@ape/core';
import { type AuditChain, type AuditRecord, createAuditChain } from './record.js';
import type { RedactionOptions } from './redact.js';

/** The part of a Node writable stream the console sink uses (process.stdout, a file stream, ...). */
export interface AuditOutputStream {
  write(chunk: string, callback: (error?: Error | null) => void): boolean;
  readonly isTTY?: boolean;
}

/** Options of {@link ConsoleAuditSink}. */
export interface ConsoleAuditSinkOptions extends RedactionOptions {
  /** Where lines go. Default `process.stdout`. */
  readonly stream?: AuditOutputStream;
  /**
   * Colour the output with ANSI codes. Default: when the stream is a TTY and the `NO_COLOR`
   * environment variable is unset or empty.
   */
  readonly color?: boolean;
  /** Longest rendering of one data value before it is cut with `…`. Default 80. */
  readonly maxValueLength?: number;
}

const PLAIN_VALUE = /^[\w.:/@+-]+$/;
const RESET = '\u001b[0m';
const DIM = '\u001b[2m';
const RED = '\u001b[31m';
const GREEN = '\u001b[32m';
const YELLOW = '\u001b[33m';
const CYAN = '\u001b[36m';
const BOLD = '\u001b[1m';

/**
 * Writes one human-readable line per event, for demos and development:
 * `2026-01-01T00:00:00.000Z tenant/session #3 decision.made action=read_file decision=ALLOW ...`.
 * Not a tamper-evident log (no hashes are shown); pair it with a file sink through
 * {@link TeeAuditSink}. Control characters in the data are escaped. `close()` does not end the stream.
 */
export class ConsoleAuditSink implements AuditSink {
  /** Hashes each event's canonical data: the runtime prepares that text (see core's `AuditSink`). */
  readonly canonicalData = true;
  readonly #stream: AuditOutputStream;
  readonly #color: boolean;
  readonly #maxValueLength: number;
  readonly #chain: AuditChain;
  readonly #pending = new Set<Promise<void>>();
  #closed = false;

  constructor(options: ConsoleAuditSinkOptions = {}) {
    this.#stream = options.stream ?? process.stdout;
    const noColor = process.env['NO_COLOR'];
    this.#color = options.color ?? (this.#stream.isTTY === true && (noColor === undefined || noColor === ''));
    this.#maxValueLength = options.maxValueLength ?? 80;
    this.#chain = createAuditChain(undefined, options);
  }

  /** Writes the event's line; resolves when the stream accepted it, rejects with AuditError (`AUDIT_FAILURE`) otherwise. */
  append(event: AuditEvent): Promise<void> {
    let line: string;
    try {
      if (this.#closed) throw new AuditError('ConsoleAuditSink is closed; the event was not recorded.');
      line = this.#format(this.#chain.next(event));
    } catch (error) {
      return Promise.reject(error);
    }
    const written = new Promise<void>((resolve, reject) => {
      this.#stream.write(line, (error) => {
        if (error)
          reject(new AuditError(`Writing an audit line failed: ${error.message}.`, {}, { cause: error }));
        else resolve();
      });
    });
    const tracked = written.then(
      () => {
        this.#pending.delete(tracked);
      },
      () => {
        this.#pending.delete(tracked);
      },
    );
    this.#pending.add(tracked);
    return written;
  }

  /** Resolves when every line appended so far was accepted by the stream. */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
  }

  /** Refuses further appends and waits for the pending lines. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  #format(record: AuditRecord): string {
    const parts = [
      this.#paint(record.ts, DIM),
      this.#paint(`${safe(record.tenant)}/${safe(record.session)}`, BOLD),
      this.#paint(`#${record.seq}`, DIM),
      this.#paint(safe(record.type), colorOfType(record)),
    ];
    for (const key of Object.keys(record.data).sort()) {
      const value = this.#render(record.data[key]);
      const shown = key === 'decision' ? this.#paint(value, colorOfDecision(value)) : value;
      parts.push(`${safe(key)}=${shown}`);
    }
    return `${parts.join(' ')}\n`;
  }

  #render(value: unknown): string {
    const text = typeof value === 'string' && PLAIN_VALUE.test(value) ? value : canonicalJson(value);
    return escapeTerminalText(text, { maxLength: this.#maxValueLength });
  }

  #paint(text: string, color: string | undefined): string {
    return this.#color && color !== undefined ? `${color}${text}${RESET}` : text;
  }
}

/** Untrusted text (tenant, session, type, keys) escaped by core's one terminal-text sanitiser. */
function safe(text: string): string {
  return escapeTerminalText(text, { maxLength: Number.POSITIVE_INFINITY });
}

function colorOfDecision(decision: string): string | undefined {
  if (decision === 'ALLOW') return GREEN;
  if (decision === 'DENY') return RED;
  if (decision === 'ESCALATE') return YELLOW;
  return undefined;
}

function colorOfType(record: AuditRecord): string {
  if (record.type === 'decision.made' && typeof record.data['decision'] === 'string') {
    return colorOfDecision(record.data['decision']) ?? CYAN;
  }
  if (record.type.endsWith('.denied') || record.type.endsWith('.rejected')) return RED;
  if (record.type.endsWith('.approved')) return GREEN;
  if (record.type.startsWith('escalation.')) return YELLOW;
  return CYAN;
}
