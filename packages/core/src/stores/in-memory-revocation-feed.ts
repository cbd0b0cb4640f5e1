import type { Clock } from '../ports/clock.js';
import { systemClock } from '../ports/clock.js';
import type {
  Revocation,
  RevocationFeed,
  RevocationStatus,
  RevocationSubject,
  RevocationTarget,
} from '../ports/revocation-feed.js';
import {
  checkRevocationDetails,
  checkRevocationTarget,
  findRevocation,
  revocationTargetKey,
} from './revocation-rules.js';

/** Options of {@link createInMemoryRevocationFeed}. */
export interface InMemoryRevocationFeedOptions {
  /** The clock for `revokedAt`; default the system clock. */
  readonly clock?: Clock;
}

const OK: RevocationStatus = Object.freeze({ ok: true });

/**
 * The {@link RevocationFeed} for one process: revocations live in a map that `check` reads
 * directly, so a revocation holds from the moment `revoke` returns and the view is never stale.
 */
export function createInMemoryRevocationFeed(options: InMemoryRevocationFeedOptions = {}): RevocationFeed {
  const clock = options.clock ?? systemClock;
  const revocations = new Map<string, Revocation>();
  const lookup = (key: string): Revocation | undefined => revocations.get(key);
  return {
    check(subject: RevocationSubject): RevocationStatus {
      const revocation = findRevocation(lookup, subject);
      return revocation === undefined ? OK : Object.freeze({ ok: false, reason: 'revoked', revocation });
    },
    async revoke(target: RevocationTarget, details): Promise<void> {
      const checked = checkRevocationTarget('InMemoryRevocationFeed.revoke', target);
      const { reason, revokedBy } = checkRevocationDetails('InMemoryRevocationFeed.revoke', details);
      revocations.set(
        revocationTargetKey(checked),
        Object.freeze({ target: checked, reason, revokedBy, revokedAt: clock.now() }),
      );
    },
    async lift(target: RevocationTarget): Promise<boolean> {
      return revocations.delete(
        revocationTargetKey(checkRevocationTarget('InMemoryRevocationFeed.lift', target)),
      );
    },
    async list(tenant: string): Promise<readonly Revocation[]> {
      return Array.from(revocations.values()).filter((revocation) => revocation.target.tenant === tenant);
    },
  };
}
