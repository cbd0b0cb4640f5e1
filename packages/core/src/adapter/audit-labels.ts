import { type AuditSink, wantsCanonicalData } from '../ports/audit-sink.js';
import { beginRuntimeAppend, endRuntimeAppend, isAppendingRuntimeEvent } from '../runtime/current-event.js';
import type { AuditEvent, ProvenanceLabel } from '../types.js';

/**
 * The host's audit sink with each successful `tool.executed` event carrying the label its output
 * was given (`outputLabel`), so the log shows which outputs tainted the conversation. Every other
 * event passes through unchanged; `flush`, `close` and `canonicalData` are the host sink's (so a
 * hash-chained sink still gets the runtime's text of the events that pass through).
 */
export function labellingSink(sink: AuditSink, labelOf: (action: string) => ProvenanceLabel): AuditSink {
  return {
    canonicalData: wantsCanonicalData(sink),
    append(event: AuditEvent) {
      if (event.type !== 'tool.executed' || event.data['ok'] !== true) return sink.append(event);
      const action = event.data['action'];
      const outputLabel = typeof action === 'string' ? labelOf(action) : 'EXTERNAL_UNTRUSTED';
      const labelled = Object.freeze({ ...event, data: Object.freeze({ ...event.data, outputLabel }) });
      // The labelled copy of the runtime's own event is one too (frozen, with frozen data).
      if (!isAppendingRuntimeEvent(event)) return sink.append(labelled);
      beginRuntimeAppend(labelled);
      try {
        return sink.append(labelled);
      } finally {
        endRuntimeAppend(labelled);
      }
    },
    flush: () => sink.flush(),
    close: () => sink.close(),
  };
}
