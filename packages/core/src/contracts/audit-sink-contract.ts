import { describe, expect, it } from 'vitest';
import type { AuditSink } from '../ports/audit-sink.js';
import type { AuditEvent } from '../types.js';

/** What a contract test saw recorded: the event fields a sink must preserve, in recorded order. */
export interface ObservedAuditEvent {
  readonly type: string;
  readonly tenant: string;
  readonly session: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** Options of {@link runAuditSinkContract}. */
export interface AuditSinkContractOptions<S extends AuditSink> {
  /**
   * Reads back what `sink` recorded so far, in order (called after `flush()`). Without it the order
   * and completeness tests cannot look inside the sink and are not registered.
   */
  readonly read?: (sink: S) => Promise<readonly ObservedAuditEvent[]> | readonly ObservedAuditEvent[];
}

/**
 * Registers the {@link AuditSink} contract as vitest tests: appends resolve, `flush` resolves after
 * them, append order is preserved, concurrent appends are all recorded, appending after `close`
 * rejects. `create` is called once per test and must return a fresh, empty sink.
 */
export function runAuditSinkContract<S extends AuditSink>(
  name: string,
  create: () => Promise<S> | S,
  options: AuditSinkContractOptions<S> = {},
): void {
  const read = options.read;
  const event = (n: number, session = 'contract-session'): AuditEvent => ({
    type: 'decision.made',
    tenant: 'contract-tenant',
    session,
    time: Date.UTC(2026, 0, 1) + n,
    data: { n, decision: 'ALLOW', rules: ['contract-rule'] },
  });

  describe(`AuditSink contract: ${name}`, () => {
    it('resolves every append and then flush', async () => {
      const sink = await create();
      for (let n = 0; n < 5; n++) await sink.append(event(n));
      await expect(sink.flush()).resolves.toBeUndefined();
      if (read !== undefined)
        expect((await read(sink)).map((seen) => seen.data['n'])).toEqual([0, 1, 2, 3, 4]);
      await sink.close();
    });

    it('flushes an empty sink', async () => {
      const sink = await create();
      await expect(sink.flush()).resolves.toBeUndefined();
      await sink.close();
    });

    it('rejects an append after close', async () => {
      const sink = await create();
      await sink.append(event(0));
      await sink.close();
      await expect(Promise.resolve().then(() => sink.append(event(1)))).rejects.toBeInstanceOf(Error);
    });

    if (read !== undefined) {
      it('preserves append order across sessions', async () => {
        const sink = await create();
        const sessions = ['session-a', 'session-b', 'session-c'];
        for (let n = 0; n < 30; n++) await sink.append(event(n, sessions[n % 3]));
        await sink.flush();
        const seen = await read(sink);
        expect(seen.map((item) => item.data['n'])).toEqual(Array.from({ length: 30 }, (_, n) => n));
        expect(seen.map((item) => item.session)).toEqual(
          Array.from({ length: 30 }, (_, n) => sessions[n % 3]),
        );
        expect(seen.every((item) => item.tenant === 'contract-tenant' && item.type === 'decision.made')).toBe(
          true,
        );
        await sink.close();
      });

      it('records every one of many concurrent appends, in call order', async () => {
        const sink = await create();
        const count = 500;
        await Promise.all(Array.from({ length: count }, (_, n) => sink.append(event(n))));
        await sink.flush();
        const seen = await read(sink);
        expect(seen.map((item) => item.data['n'])).toEqual(Array.from({ length: count }, (_, n) => n));
        await sink.close();
      });

      it('keeps what was recorded when the caller mutates its event afterwards', async () => {
        const sink = await create();
        const mutable = { ...event(0), data: { n: 0, decision: 'ALLOW' } };
        await sink.append(mutable);
        mutable.data.decision = 'DENY';
        await sink.flush();
        expect((await read(sink))[0]?.data['decision']).toBe('ALLOW');
        await sink.close();
      });
    }
  });
}
