import { forgetCanonicalText, rememberCanonicalText } from '../canonical-json.js';
import { AuditError, messageOf } from '../errors.js';
import { AUDIT_APPENDED, type AuditSink, wantsCanonicalData } from '../ports/audit-sink.js';
import type { Clock } from '../ports/clock.js';
import type { AuditEventType } from '../types.js';
import { beginRuntimeAppend, endRuntimeAppend } from './current-event.js';
import { runtimeEventText } from './event-text.js';

/**
 * @internal The promise of an append the sink finished synchronously (and of a state move that
 * changed nothing): already settled, so callers may skip awaiting it (no microtask hop).
 */
export const RECORDED: Promise<void> = AUDIT_APPENDED;

function ignore(): void {}

/** @internal What the recorder does when an append fails: terminate the session (fail closed). */
export type AuditFailureHandler = (reason: string) => Promise<void>;

/**
 * @internal Appends one session's events. A failure of the sink or the clock terminates the session
 * (through `onFailure`) and rejects with AuditError (`AUDIT_FAILURE`), naming the event.
 */
export class AuditRecorder {
  readonly #sink: AuditSink;
  readonly #clock: Clock;
  readonly #tenant: string;
  readonly #session: string;
  readonly #onFailure: AuditFailureHandler;
  /** The sink serialises event data canonically (`AuditSink.canonicalData`): prepare that text. */
  readonly #prepareText: boolean;

  constructor(
    sink: AuditSink,
    clock: Clock,
    tenant: string,
    session: string,
    onFailure: AuditFailureHandler,
  ) {
    this.#sink = sink;
    this.#clock = clock;
    this.#tenant = tenant;
    this.#session = session;
    this.#onFailure = onFailure;
    this.#prepareText = wantsCanonicalData(sink);
  }

  /**
   * Appends one event, dated `at` (a reading of the session's clock, checked like one) or, without
   * it, by reading the clock. A sink that recorded it synchronously (its `append` returned nothing) costs
   * no promise of its own; a failure, synchronous or not, terminates the session and rejects.
   */
  record(type: AuditEventType, data: Record<string, unknown>, at?: number): Promise<void> {
    let appended: Promise<void> | void;
    try {
      appended = this.#append(type, data, at);
    } catch (error) {
      return this.#failed(type, error);
    }
    if (appended === undefined || appended === RECORDED) return RECORDED;
    return Promise.resolve(appended).then(ignore, (error: unknown) => this.#failed(type, error));
  }

  /**
   * {@link record} for an append the call does not await at once: `appends` tracks the sink's own
   * promise (no promise of the recorder's in between), and a failure terminates the session before
   * the drain reports it, as `record` would.
   */
  start(appends: CallAppends, type: AuditEventType, data: Record<string, unknown>): void {
    let appended: Promise<void> | void;
    try {
      appended = this.#append(type, data, undefined);
    } catch (error) {
      appends.track(this.#failed(type, error));
      return;
    }
    if (appended === undefined || appended === RECORDED) return;
    // A thenable that is not a native promise is adopted first (its `then` is not trusted to behave).
    const append = appended instanceof Promise ? appended : Promise.resolve(appended);
    appends.track(append, (error: unknown) => this.#failed(type, error));
  }

  /** Builds the event and hands it to the sink; returns what the sink's `append` returned. */
  #append(type: AuditEventType, data: Record<string, unknown>, at: number | undefined): Promise<void> | void {
    const time = at === undefined ? this.#clock.now() : at;
    if (typeof time !== 'number' || !Number.isFinite(time))
      throw new Error('the clock returned a non-finite time');
    const frozen = Object.freeze(data);
    const event = Object.freeze({ type, tenant: this.#tenant, session: this.#session, time, data: frozen });
    // The data of the frequent events is frozen all through; its text costs a field-by-field
    // build here instead of the general serialiser's walk in the sink (during this append).
    const text = this.#prepareText ? runtimeEventText(type, frozen) : undefined;
    // While the sink appends, the event is known as the runtime's own (core's in-memory sink
    // keeps it without a copy) and its data's text is at hand; neither is held afterwards.
    beginRuntimeAppend(event);
    if (text !== undefined) rememberCanonicalText(frozen, text);
    try {
      return this.#sink.append(event);
    } finally {
      endRuntimeAppend(event);
      if (text !== undefined) forgetCanonicalText(frozen);
    }
  }

  async #failed(type: AuditEventType, error: unknown): Promise<never> {
    await this.#onFailure(`audit failure on ${type}`);
    throw new AuditError(
      `The audit sink could not record ${type} (${messageOf(error)}); failing closed: the session is terminated.`,
      { event: type },
      { cause: error },
    );
  }

  flush(): Promise<void> {
    return Promise.resolve(this.#sink.flush());
  }
}

/**
 * @internal The appends one call started without awaiting them (`decision.made`, `token.issued`,
 * `token.consumed`): the sink keeps call order, and the gate drains them before the tool runs, so a
 * durable step waits for its pre-tool records and an audit failure there stops the tool.
 *
 * Each started append gets one reaction, which counts it settled (and keeps its failure); a drain
 * waits for the count, with one promise, instead of awaiting each append in turn. A rejection is
 * always handled (a call that throws before draining leaves no unhandled rejection behind).
 */
export class CallAppends {
  /** Appends started so far (the next one's index in call order). */
  #started = 0;
  /** Appends started and not settled yet. */
  #pending = 0;
  /** The failure of the earliest (in call order) append that failed, and its index. */
  #failure: { readonly index: number; readonly error: unknown } | undefined;
  /** Called when the last pending append settles, if someone waits for it. */
  #whenSettled: (() => void) | undefined;
  readonly #settled = (): void => {
    this.#pending--;
    if (this.#pending === 0 && this.#whenSettled !== undefined) {
      const wake = this.#whenSettled;
      this.#whenSettled = undefined;
      wake();
    }
  };

  /**
   * Adds a started append (see `AuditRecorder.start`). On a rejection, `failed` turns the sink's
   * error into the call's failure (terminating the session first), and the append counts as
   * settled only then; without `failed`, the rejection is the call's failure as it is.
   */
  track(append: Promise<void>, failed?: (error: unknown) => Promise<never>): void {
    const index = this.#started++;
    this.#pending++;
    append.then(this.#settled, (error: unknown) => {
      if (failed === undefined) {
        this.#fail(index, error);
        return;
      }
      failed(error).then(
        () => this.#fail(index, error),
        (failure: unknown) => this.#fail(index, failure),
      );
    });
  }

  #fail(index: number, error: unknown): void {
    if (this.#failure === undefined || index < this.#failure.index) this.#failure = { index, error };
    this.#settled();
  }

  /**
   * Resolves once every started append settled; rejects with the failure of the first (in call
   * order) that failed. Returns `undefined` when every started append already settled without a
   * failure (or none was started: every append so far finished synchronously).
   */
  drain(): Promise<void> | undefined {
    if (this.#pending === 0) {
      return this.#failure === undefined ? undefined : Promise.reject(this.#failure.error);
    }
    return new Promise<void>((resolve, reject) => {
      this.#afterSettled(() => (this.#failure === undefined ? resolve() : reject(this.#failure.error)));
    });
  }

  /**
   * The error a call fails with once `error` was thrown while appends were pending: the audit
   * failure (the session already terminated by the recorder) when one of them failed, so an audit
   * failure is reported as such whatever it interrupted; otherwise `error` itself.
   */
  failureOr(error: unknown): Promise<unknown> {
    return new Promise<unknown>((resolve) => {
      this.#afterSettled(() => resolve(this.#failure === undefined ? error : this.#failure.error));
    });
  }

  /** Calls `then` once no started append is pending (at once if none is). */
  #afterSettled(then: () => void): void {
    if (this.#pending === 0) {
      then();
      return;
    }
    const previous = this.#whenSettled;
    this.#whenSettled =
      previous === undefined
        ? then
        : () => {
            previous();
            then();
          };
  }
}
