import { createHash } from 'node:crypto';
import {
  AUDIT_EVENT_TYPES,
  type AuditEvent,
  AuditError,
  type AuditEventType,
  canonicalJson,
} from '@ape/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decisionEvent } from './__fixtures__/events.js';
import {
  AUDIT_GENESIS_HASH,
  createAuditChain,
  createAuditLine,
  createAuditRecord,
  createAuditRecordWithLine,
  hashAuditRecord,
  serializeAuditRecord,
} from './record.js';

describe('createAuditRecord', () => {
  it('builds seq, ISO ts, prev and a hash over the canonical record without hash', () => {
    const record = createAuditRecord(decisionEvent(0), { seq: 0, prev: AUDIT_GENESIS_HASH });
    expect(record.seq).toBe(0);
    expect(record.ts).toBe('2026-01-01T00:00:00.000Z');
    expect(record.prev).toBe('0'.repeat(64));
    const { hash, ...body } = record;
    // The hashed line written out by hand (sorted keys, no whitespace), hashed by node:crypto and
    // pinned: an independent oracle, not the code's own formula.
    const line =
      '{"data":{"decision":"ALLOW","n":0,"reason":"read inside the workspace","rules":["allow-read"]},' +
      `"prev":"${'0'.repeat(64)}","seq":0,"session":"session-1","tenant":"tenant-a",` +
      '"ts":"2026-01-01T00:00:00.000Z","type":"decision.made"}';
    expect(hash).toBe(createHash('sha256').update(line, 'utf8').digest('hex'));
    expect(hash).toBe('0f97646ec683d902e662351a758f08e672398c17c9c657a74aefe9f1685579de');
    expect(hashAuditRecord(body)).toBe(hash);
  });

  it('serialises the line as canonical JSON with sorted keys and no whitespace', () => {
    const record = createAuditRecord(decisionEvent(1), { seq: 4, prev: 'f'.repeat(64) });
    const line = serializeAuditRecord(record);
    expect(line).toBe(canonicalJson(record));
    expect(line.startsWith('{"data":{')).toBe(true);
    expect(line).not.toContain('\n');
  });

  it('copies and deep-freezes the data so later mutation of the event changes nothing', () => {
    const data = { nested: { value: 1 } };
    const record = createAuditRecord(decisionEvent(0, { data }), { seq: 0, prev: AUDIT_GENESIS_HASH });
    data.nested.value = 2;
    expect(record.data).toEqual({ nested: { value: 1 } });
    expect(Object.isFrozen(record.data['nested'])).toBe(true);
  });

  it.each([
    ['an empty tenant', { tenant: '' }],
    ['a missing session', { session: undefined as unknown as string }],
    ['a non-finite time', { time: Number.NaN }],
    ['a time past year 9999', { time: 8.64e15 }],
    ['a negative-year time', { time: Date.UTC(-1, 0, 1) }],
  ])('refuses an event with %s with AUDIT_FAILURE', (_name, overrides) => {
    expect(() =>
      createAuditRecord(decisionEvent(0, overrides), { seq: 0, prev: AUDIT_GENESIS_HASH }),
    ).toThrow(expect.objectContaining({ code: 'AUDIT_FAILURE' }));
  });

  it('refuses non-JSON data with AUDIT_FAILURE naming the path', () => {
    const event = decisionEvent(0, { data: { when: new Date(0) } });
    let caught: unknown;
    try {
      createAuditRecord(event, { seq: 0, prev: AUDIT_GENESIS_HASH });
    } catch (error) {
      caught = error;
    }
    expect(AuditError.isInstance(caught)).toBe(true);
    expect((caught as AuditError).message).toContain('data.when');
  });

  it('changes the hash when any field changes (property)', () => {
    const base = createAuditRecord(decisionEvent(0), { seq: 0, prev: AUDIT_GENESIS_HASH });
    fc.assert(
      fc.property(
        fc.constantFrom('seq', 'ts', 'tenant', 'session', 'type', 'data', 'prev'),
        fc.string({ minLength: 1 }),
        (field, text) => {
          const { hash: _hash, ...body } = base;
          const changed = { ...body } as Record<string, unknown>;
          changed[field] =
            field === 'seq'
              ? base.seq + text.length
              : field === 'data'
                ? { ...base.data, extra: text }
                : `${String(body[field as keyof typeof body])}${text}`;
          expect(hashAuditRecord(changed as typeof body)).not.toBe(base.hash);
        },
      ),
    );
  });
});

describe('createAuditRecordWithLine', () => {
  it('returns the line serializeAuditRecord writes and the hash hashAuditRecord computes (property)', () => {
    const json = fc.jsonValue({ maxDepth: 2 });
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), json),
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }),
        fc.constantFrom(...AUDIT_EVENT_TYPES),
        fc.nat(),
        fc.boolean(),
        (data, tenant, session, type, seq, redact) => {
          fc.pre(!JSON.stringify(data).includes('"__proto__"'));
          const event = { type, tenant, session, time: 1_767_225_600_000 + seq, data };
          const { record, line } = createAuditRecordWithLine(
            event,
            { seq, prev: AUDIT_GENESIS_HASH },
            { redact },
          );
          expect(line).toBe(serializeAuditRecord(record));
          expect(record.hash).toBe(hashAuditRecord(record));
          expect(record).toEqual(createAuditRecord(event, { seq, prev: AUDIT_GENESIS_HASH }, { redact }));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('createAuditLine gives the same line and hash as the record path, redacting or not (property)', () => {
    // Keys that make redaction or the refusal act, mixed into random data at any depth.
    const key = fc.oneof(fc.string(), fc.constantFrom('args', 'tokenId', 'token_id', 'secret', '__proto__'));
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue({ maxDepth: 0 }),
        fc.array(tie('value'), { maxLength: 3 }),
        fc.dictionary(key, tie('value'), { maxKeys: 4 }),
      ),
    })).value;
    fc.assert(
      fc.property(fc.dictionary(key, json, { maxKeys: 5 }), fc.nat(), fc.boolean(), (data, seq, redact) => {
        const event = { ...decisionEvent(seq), data };
        const position = { seq, prev: AUDIT_GENESIS_HASH };
        let expected: { line: string; hash: string } | { code: string };
        try {
          const { record, line } = createAuditRecordWithLine(event, position, { redact });
          expected = { line, hash: record.hash };
        } catch (error) {
          expected = { code: (error as AuditError).code };
        }
        let actual: { line: string; hash: string } | { code: string };
        try {
          actual = { ...createAuditLine(event, position, { redact }) };
        } catch (error) {
          actual = { code: (error as AuditError).code };
        }
        expect(actual).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('reads the fields around the data once: an accessor that answers differently later changes nothing', () => {
    // An event whose tenant, session and type answer a valid string on the first read only.
    const shifty = () => {
      const reads = { tenant: 0, session: 0, type: 0 };
      const event = {
        ...decisionEvent(3),
        get tenant() {
          reads.tenant++;
          return reads.tenant === 1 ? 'tenant-a' : '';
        },
        get session() {
          reads.session++;
          return reads.session === 1 ? 'session-1' : { not: 'a string' };
        },
        get type() {
          reads.type++;
          return reads.type === 1 ? 'decision.made' : 'x\n"y';
        },
      } as unknown as AuditEvent;
      return { event, reads };
    };
    const position = { seq: 3, prev: AUDIT_GENESIS_HASH };
    const plain = createAuditRecordWithLine(
      decisionEvent(3, { tenant: 'tenant-a', session: 'session-1' }),
      position,
    );
    const first = shifty();
    const { record, line } = createAuditRecordWithLine(first.event, position);
    expect(record).toMatchObject({ tenant: 'tenant-a', session: 'session-1', type: 'decision.made' });
    expect(line).toBe(plain.line);
    expect(first.reads).toEqual({ tenant: 1, session: 1, type: 1 });
    const second = shifty();
    expect(createAuditLine(second.event, position).line).toBe(plain.line);
    expect(second.reads).toEqual({ tenant: 1, session: 1, type: 1 });
  });

  it('createAuditLine copies nothing it does not have to, and still redacts args and secrets', () => {
    const event = {
      ...decisionEvent(0),
      data: { args: { to: 'a@b.c' }, nested: [{ secret: 's' }] },
    };
    const { line } = createAuditLine(event, { seq: 0, prev: AUDIT_GENESIS_HASH });
    expect(line).toContain('"secret":"[redacted]"');
    expect(line).toContain('"argNames":["to"]');
    expect(line).not.toContain('a@b.c');
    expect(() =>
      createAuditLine(
        { ...decisionEvent(0), data: JSON.parse('{"a":[{"__proto__":{}}]}') },
        { seq: 0, prev: AUDIT_GENESIS_HASH },
      ),
    ).toThrow(AuditError);
  });

  it('serialises redacted args and secrets in the line exactly as the record holds them', () => {
    const event = {
      ...decisionEvent(0),
      data: { args: { to: 'a@b.c', body: 'hi' }, nested: { tokenId: 'abc' }, n: -0 },
    };
    const { record, line } = createAuditRecordWithLine(event, { seq: 0, prev: AUDIT_GENESIS_HASH });
    expect(line).toBe(serializeAuditRecord(record));
    expect(record.hash).toBe(hashAuditRecord(record));
    expect(line).toContain('"tokenId":"[redacted]"');
  });
});

describe('createAuditChain', () => {
  it('links each record to the previous one from the genesis hash', () => {
    const chain = createAuditChain();
    const records = [0, 1, 2].map((n) => chain.next(decisionEvent(n)));
    expect(records.map((record) => record.seq)).toEqual([0, 1, 2]);
    expect(records[0]?.prev).toBe(AUDIT_GENESIS_HASH);
    expect(records[1]?.prev).toBe(records[0]?.hash);
    expect(records[2]?.prev).toBe(records[1]?.hash);
    expect(chain.position).toEqual({ seq: 3, prev: records[2]?.hash });
  });

  it('does not advance when an event is refused', () => {
    const chain = createAuditChain();
    chain.next(decisionEvent(0));
    const before = chain.position;
    expect(() => chain.next(decisionEvent(1, { tenant: '' }))).toThrow(
      expect.objectContaining({ code: 'AUDIT_FAILURE' }),
    );
    expect(chain.position).toEqual(before);
  });

  it('writes every line exactly as serializeAuditRecord does while chains, sessions, tenants and types interleave (property)', () => {
    // The line builder remembers the JSON of the last hash, session, tenant, timestamp and of each
    // type: hits and misses in any order, with strings that need escapes, must not change a byte.
    const text = fc.constantFrom(
      'a',
      'tenant-a',
      'q"uote',
      'back\\slash',
      'nl\n',
      '\ud800lone',
      'é',
      'a'.repeat(65),
    );
    const step = fc.record({
      chain: fc.nat({ max: 2 }),
      tenant: text,
      session: text,
      type: fc.oneof(fc.constantFrom(...AUDIT_EVENT_TYPES), text),
      ms: fc.nat({ max: 3 }),
    });
    const starts = [
      { seq: 0, prev: AUDIT_GENESIS_HASH },
      { seq: 5, prev: 'not "hex"\\' },
      { seq: 9, prev: 'f'.repeat(64) },
    ];
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 12 }), (steps) => {
        const chains = starts.map((start) => createAuditChain(start));
        const mirrors = starts.map((start) => ({ ...start }));
        for (const { chain, tenant, session, type, ms } of steps) {
          // Any non-empty type is recorded (an event from outside the runtime may carry its own).
          const event: AuditEvent = {
            type: type as AuditEventType,
            tenant,
            session,
            time: Date.UTC(2026, 0, 1) + ms,
            data: { ms },
          };
          const mirror = mirrors[chain]!;
          const { line, hash } = createAuditLine(event, mirror);
          const record = chains[chain]!.next(event);
          expect(line).toBe(serializeAuditRecord(record));
          expect(line).toBe(
            canonicalJson({ ...JSON.parse(line), session, tenant, type, prev: mirror.prev, seq: mirror.seq }),
          );
          expect(hash).toBe(record.hash);
          mirrors[chain] = { seq: mirror.seq + 1, prev: hash };
        }
      }),
      { numRuns: 300 },
    );
  });

  it('resumes from a given position', () => {
    const chain = createAuditChain({ seq: 7, prev: 'a'.repeat(64) });
    const record = chain.next(decisionEvent(0));
    expect(record.seq).toBe(7);
    expect(record.prev).toBe('a'.repeat(64));
  });
});

describe('the published record schema', () => {
  it('accepts every record the sinks write and refuses one with an extra field', async () => {
    const { Ajv2020 } = await import('ajv/dist/2020.js');
    const schema = (await import('../schema/audit-record.json')).default;
    const validate = new Ajv2020({ strict: true }).compile(schema);
    const chain = createAuditChain();
    for (let index = 0; index < 20; index++) {
      const record = chain.next(decisionEvent(index));
      expect(validate(JSON.parse(serializeAuditRecord(record)))).toBe(true);
    }
    expect(
      validate({ ...createAuditRecord(decisionEvent(0), { seq: 0, prev: AUDIT_GENESIS_HASH }), extra: 1 }),
    ).toBe(false);
  });
});
