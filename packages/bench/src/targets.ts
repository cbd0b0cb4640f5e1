import {
  formatDuration,
  formatRate,
  formatRatio,
  PEERS,
  type Peer,
  type Row,
  type TargetResult,
} from './report.js';

/** The speed-up over each peer issue 9 asks for on cases 1–3. */
export const SPEEDUP_GOALS: Readonly<Record<Peer, number>> = { cedar: 50, casbin: 10 };

function notMeasured(id: string, description: string, goal: string, note: string): TargetResult {
  return { id, description, goal, measured: 'not measured', met: null, note };
}

/** `row`'s statistic (mean by default) is at most `limitUs` microseconds. */
export function targetAtMost(
  id: string,
  description: string,
  row: Row | undefined,
  limitUs: number,
  statistic: 'meanUs' | 'p50Us' = 'meanUs',
): TargetResult {
  const goal = `≤ ${formatDuration(limitUs)}${statistic === 'p50Us' ? ' p50' : ''}`;
  const value = row?.stats?.[statistic];
  if (value === undefined) return notMeasured(id, description, goal, row?.note ?? 'the row was not measured');
  return { id, description, goal, measured: formatDuration(value), met: value <= limitUs };
}

/** A measured count (round trips, bytes, ...) is at most `limit`; `undefined` when it was not measured. */
export function targetAtMostValue(
  id: string,
  description: string,
  value: number | undefined,
  limit: number,
  unit: string,
  note = 'the value was not measured',
): TargetResult {
  const suffix = unit === '' ? '' : ` ${unit}`;
  const goal = `≤ ${limit}${suffix}`;
  if (value === undefined) return notMeasured(id, description, goal, note);
  const measured = `${Number.isInteger(value) ? value : value.toFixed(2)}${suffix}`;
  return { id, description, goal, measured, met: value <= limit };
}

/** `row`'s operations per second are at least `minimum`. */
export function targetAtLeastRate(
  id: string,
  description: string,
  row: Row | undefined,
  minimum: number,
  unit: string,
): TargetResult {
  const goal = `≥ ${formatRate(minimum)} ${unit}`;
  const value = row?.stats?.opsPerSecond;
  if (value === undefined) return notMeasured(id, description, goal, row?.note ?? 'the row was not measured');
  return { id, description, goal, measured: `${formatRate(value)} ${unit}`, met: value >= minimum };
}

/**
 * The smallest speed-up of APE over each peer across the APE rows of a case, against
 * {@link SPEEDUP_GOALS}. `null` when the peer was not measured next to APE.
 */
export function speedupTargets(idPrefix: string, label: string, rows: readonly Row[]): TargetResult[] {
  return PEERS.map((peer) => {
    const goal = `≥ ${SPEEDUP_GOALS[peer]}×`;
    const id = `${idPrefix}-speedup-${peer}`;
    const description = `${label}: APE faster than ${peer} (smallest ratio)`;
    let worst: { ratio: number; row: Row } | undefined;
    for (const row of rows) {
      const ratio = row.speedup?.[peer];
      if (ratio !== undefined && (worst === undefined || ratio < worst.ratio)) worst = { ratio, row };
    }
    if (worst === undefined)
      return notMeasured(id, description, goal, `${peer} was not measured next to APE`);
    return {
      id,
      description,
      goal,
      measured: `${formatRatio(worst.ratio)} (${worst.row.group})`,
      met: worst.ratio >= SPEEDUP_GOALS[peer],
    };
  });
}
