import { PassThrough } from 'node:stream';
import type { EscalationRequest } from '@ape/core';

/** A well-formed escalation request, with fields overridable per test. */
export function makeRequest(overrides: Partial<EscalationRequest> = {}): EscalationRequest {
  return {
    tenant: 'acme',
    session: 'session-1',
    stepIndex: 2,
    action: 'deploy_production',
    args: { target: 'production', replicas: 3 },
    provenance: 'EXTERNAL_UNTRUSTED',
    decision: {
      decision: 'ESCALATE',
      rules: ['deploys-need-a-human', 'untrusted-input'],
      reason: 'deploying to production needs a human approval',
      policy: 'sha256:0000',
    },
    ...overrides,
  };
}

/** A scripted terminal: a readable stream that claims to be a TTY. */
export class FakeTerminalInput extends PassThrough {
  readonly isTTY = true;
}

/** A writable stream that keeps everything written to it. */
export class CapturedOutput extends PassThrough {
  #text = '';

  constructor() {
    super();
    this.on('data', (chunk: Buffer) => {
      this.#text += chunk.toString('utf8');
    });
  }

  get text(): string {
    return this.#text;
  }
}

/** Resolves once `condition()` holds, checking after each turn of the event loop (at most 1000 turns). */
export async function eventually(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1000; turn += 1) {
    if (condition()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error('condition never held');
}

/**
 * True when `text` holds a character a terminal would act on: C0 controls except the line feeds
 * listed in `allowed`, DEL, C1 controls, line and paragraph separators, bidirectional marks and
 * overrides. Written without a regular expression so the check does not share the code it tests.
 */
export function hasTerminalControl(text: string, allowed: readonly string[] = []): boolean {
  for (const character of text) {
    if (allowed.includes(character)) continue;
    const code = character.codePointAt(0) ?? 0;
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return true;
    if (code === 0x061c || code === 0x200e || code === 0x200f || code === 0x2028 || code === 0x2029)
      return true;
    if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) return true;
  }
  return false;
}
