import { stat } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { type AuditRecord, type AuditVerification, readAllAuditRecords, verifyAuditLog } from '@ape/audit';

/** Where the console reads the audit log, and the checkpoint that proves it was not cut. */
export interface ConsoleAuditOptions {
  /** The JSON Lines audit log (as written by `createJsonlFileAuditSink` or `ape mcp proxy --audit`). */
  readonly file: string;
  /**
   * A signed checkpoint the log must match: `file` holds the checkpoint note (re-read on every
   * view, so a sink may keep rewriting it), `key` is the verifier key text it must be signed with.
   */
  readonly checkpoint?: { readonly file: string; readonly key: string };
}

/** @internal What the status line of the audit view says. */
export interface AuditStatus {
  /** `intact`: verified; `torn`: verified but the last line is torn; `tampered`; `unreadable`. */
  readonly state: 'intact' | 'torn' | 'tampered' | 'unreadable';
  readonly message: string;
  readonly records: number;
  readonly rootHash?: string;
  readonly problem?: string;
  readonly firstBadLine?: number;
  readonly firstBadSeq?: number;
  /** With a checkpoint: whether the log matched it (`undefined` when the checkpoint itself is bad). */
  readonly checkpoint?: {
    readonly matches: boolean | undefined;
    readonly size?: number;
    readonly signedBy?: string;
    readonly message: string;
  };
}

/** @internal One read of the log: its status and every record (all tenants; views filter). */
export interface AuditSnapshot {
  readonly status: AuditStatus;
  readonly records: readonly AuditRecord[];
  /** Changes whenever the log or the checkpoint file changes. */
  readonly version: string;
}

/** @internal One session as the sessions view lists it, derived from its records. */
export interface SessionSummary {
  readonly tenant: string;
  readonly session: string;
  readonly state: string;
  readonly records: number;
  readonly firstTs: string;
  readonly lastTs: string;
  readonly lineage?: string;
  readonly scope?: string;
}

/** @internal Reads the log, re-reading only when the file (or checkpoint) changed. */
export interface AuditReader {
  version(): Promise<string>;
  snapshot(): Promise<AuditSnapshot>;
}

async function fileVersion(path: string): Promise<string> {
  try {
    const info = await stat(path);
    return `${info.size}:${info.mtimeMs}:${info.ino}`;
  } catch {
    return 'missing';
  }
}

function describeFailure(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function checkpointOption(
  options: ConsoleAuditOptions,
): Promise<{ note: string; key: string; source: string } | string | undefined> {
  const checkpoint = options.checkpoint;
  if (checkpoint === undefined) return undefined;
  try {
    return { note: await readFile(checkpoint.file, 'utf8'), key: checkpoint.key, source: checkpoint.file };
  } catch (error) {
    return `cannot read the checkpoint ${checkpoint.file}: ${describeFailure(error)}`;
  }
}

function statusOf(verification: AuditVerification, checkpointGiven: boolean): AuditStatus {
  const checkpointProblem = verification.problem?.startsWith('checkpoint-') === true;
  const check = verification.checkpoint;
  const checkpoint = !checkpointGiven
    ? undefined
    : check !== undefined
      ? {
          matches: check.matches && !checkpointProblem,
          size: check.size,
          signedBy: check.signedBy,
          message: checkpointProblem
            ? (verification.message ?? 'the log does not match the checkpoint')
            : `matches the signed checkpoint of ${check.size} records (signed by ${check.signedBy})`,
        }
      : {
          matches: checkpointProblem ? false : undefined,
          message: verification.message ?? 'the checkpoint could not be checked',
        };
  const base = {
    records: verification.records,
    rootHash: verification.rootHash,
    ...(verification.problem === undefined ? {} : { problem: verification.problem }),
    ...(verification.firstBadLine === undefined ? {} : { firstBadLine: verification.firstBadLine }),
    ...(verification.firstBadSeq === undefined ? {} : { firstBadSeq: verification.firstBadSeq }),
    ...(checkpoint === undefined ? {} : { checkpoint }),
  };
  if (!verification.ok || checkpoint?.matches === false) {
    return {
      ...base,
      state: 'tampered',
      message: verification.message ?? `the log does not verify (${verification.problem ?? 'unknown'})`,
    };
  }
  if (verification.truncated === true) {
    return { ...base, state: 'torn', message: 'the chain is intact; the last line is torn (a crash)' };
  }
  return { ...base, state: 'intact', message: `the hash chain of ${verification.records} records is intact` };
}

/** @internal Creates the reader of one log. */
export function createAuditReader(options: ConsoleAuditOptions): AuditReader {
  let cached: AuditSnapshot | undefined;

  async function version(): Promise<string> {
    const [log, note] = await Promise.all([
      fileVersion(options.file),
      options.checkpoint === undefined ? '' : fileVersion(options.checkpoint.file),
    ]);
    return `${log}|${note}`;
  }

  async function read(current: string): Promise<AuditSnapshot> {
    const checkpoint = await checkpointOption(options);
    let status: AuditStatus;
    try {
      const verification = await verifyAuditLog(
        options.file,
        typeof checkpoint === 'object' ? { checkpoint } : {},
      );
      status = statusOf(verification, checkpoint !== undefined);
      if (typeof checkpoint === 'string') {
        status = { ...status, state: 'tampered', checkpoint: { matches: undefined, message: checkpoint } };
      }
    } catch (error) {
      return {
        version: current,
        records: [],
        status: { state: 'unreadable', records: 0, message: describeFailure(error) },
      };
    }
    let records: readonly AuditRecord[] = [];
    try {
      records = await readAllAuditRecords(options.file, {}, { verify: false });
    } catch (error) {
      // A malformed line in the middle: the status already says tampered; show what verified.
      status = { ...status, message: `${status.message} (${describeFailure(error)})` };
    }
    return { version: current, records, status };
  }

  return {
    version,
    async snapshot() {
      const current = await version();
      if (cached?.version !== current) cached = await read(current);
      return cached;
    },
  };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** @internal The sessions of `records`, in order of first appearance. */
export function summarizeSessions(records: readonly AuditRecord[]): SessionSummary[] {
  const sessions = new Map<string, { -readonly [K in keyof SessionSummary]: SessionSummary[K] }>();
  for (const record of records) {
    const key = `${record.tenant}\u0000${record.session}`;
    let summary = sessions.get(key);
    if (summary === undefined) {
      summary = {
        tenant: record.tenant,
        session: record.session,
        state: 'INITIALIZED',
        records: 0,
        firstTs: record.ts,
        lastTs: record.ts,
      };
      sessions.set(key, summary);
    }
    summary.records++;
    summary.lastTs = record.ts;
    const data = record.data;
    if (record.type === 'state.changed') summary.state = text(data['to']) ?? summary.state;
    if (record.type === 'session.terminated') summary.state = 'TERMINATED';
    if (record.type === 'session.created') {
      const lineage = text(data['lineage']);
      if (lineage !== undefined) summary.lineage = lineage;
    }
    if (record.type === 'intent.set') {
      const scope = text(data['scope']);
      if (scope !== undefined) summary.scope = scope;
    }
  }
  return [...sessions.values()];
}

/** @internal The filters of the audit view (every field optional; empty strings mean "any"). */
export interface AuditFilter {
  readonly tenant?: string;
  readonly session?: string;
  readonly type?: string;
  readonly action?: string;
  readonly decision?: string;
  /** ISO-8601 instants (inclusive). */
  readonly from?: string;
  readonly to?: string;
}

/** @internal The records that pass `filter`, in log order. */
export function filterRecords(records: readonly AuditRecord[], filter: AuditFilter): AuditRecord[] {
  return records.filter(
    (record) =>
      (filter.tenant === undefined || record.tenant === filter.tenant) &&
      (filter.session === undefined || record.session === filter.session) &&
      (filter.type === undefined || record.type === filter.type) &&
      (filter.action === undefined || record.data['action'] === filter.action) &&
      (filter.decision === undefined || record.data['decision'] === filter.decision) &&
      (filter.from === undefined || record.ts >= filter.from) &&
      (filter.to === undefined || record.ts <= filter.to),
  );
}
