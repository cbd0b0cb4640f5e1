import { isLabeled, labelOf } from '@ape/core';
import { ToolMessage } from '@langchain/core/messages';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TaintTracker } from './provenance.js';

const MIN = 12;
const tracker = (trusted: string[] = []) => new TaintTracker(MIN, new Set(trusted));
const result = (id: string, name: string, content: string) =>
  new ToolMessage({ tool_call_id: id, name, content });

describe('context taint from LangChain messages', () => {
  it('labels calls with the user label until untrusted output arrives, then untrusted', () => {
    const taint = tracker();
    expect(taint.label('context', { to: 'a' }, 'USER_TRUSTED').provenance).toBe('USER_TRUSTED');
    taint.observe([result('c1', 'fetch_url', 'page')]);
    expect(taint.label('context', { to: 'a' }, 'USER_TRUSTED').provenance).toBe('EXTERNAL_UNTRUSTED');
  });

  it('keeps the label of results it produced and trusts tools that declared trusted output', () => {
    const taint = tracker(['clock']);
    taint.recordResult('c1', 'calc', 'SYSTEM_TRUSTED', '4');
    taint.observe([
      result('c1', 'calc', '4'),
      result('c2', 'clock', '12:00'),
      { type: 'tool', tool_call_id: 'c1', name: 'calc' },
    ]);
    expect(taint.tainted).toBe(false);
  });

  it('reads serialised tool messages too, and stays tainted when later messages leave them out', () => {
    const taint = tracker();
    taint.observe([{ type: 'tool', tool_call_id: 'x', name: 'web', content: 'attacker text here' }]);
    taint.observe([]);
    expect(taint.tainted).toBe(true);
  });
});

describe('dataflow labels', () => {
  it('labels exactly the string leaves that copy a run of untrusted text (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: MIN, maxLength: 80 }),
        fc.string({ maxLength: MIN - 1 }),
        (page, own) => {
          const taint = tracker();
          taint.recordResult('c1', 'fetch_url', 'EXTERNAL_UNTRUSTED', page);
          const { args, provenance } = taint.label('dataflow', { copied: `>${page}<`, own }, 'USER_TRUSTED');
          expect(isLabeled(args['copied'])).toBe(true);
          expect(isLabeled(args['own'])).toBe(false);
          expect(labelOf(args, provenance)).toBe('EXTERNAL_UNTRUSTED');
        },
      ),
    );
  });
});
