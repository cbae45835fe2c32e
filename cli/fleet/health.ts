import type { FleetRow, FleetThresholds } from "./row.ts";

/**
 * How an identity stands: `missing` (no SVID known), `expired`, `alarm` (less left
 * than the alarm threshold), `renew` (in the issuer's renewal window, which
 * it renews on its next run), `ok`.
 */
export type Health = "missing" | "expired" | "alarm" | "renew" | "ok";

/**
 * Milliseconds the row's SVID has left at `now`; `undefined` when none is known.
 *
 * @example
 * const left = msLeft(row, new Date());
 */
export function msLeft(row: FleetRow, now: Date): number | undefined {
  return row.notAfter === undefined ? undefined : Date.parse(row.notAfter) - now.getTime();
}

/**
 * The row's health against the thresholds.
 *
 * @example
 * healthOf({ ...row, notAfter: "2026-11-24T00:00:00Z" }, thresholds); // "expired" after that instant
 */
export function healthOf(row: FleetRow, thresholds: FleetThresholds): Health {
  const left = msLeft(row, new Date(thresholds.now));
  if (left === undefined) return "missing";
  if (left <= 0) return "expired";
  if (left < thresholds.alarmBelowMs) return "alarm";
  if (left < thresholds.renewBeforeMs) return "renew";
  return "ok";
}

/**
 * The rows that make `status` exit non-zero: expired, missing or below the alarm threshold.
 *
 * @example
 * process.exitCode = needingAttention(rows, thresholds).length > 0 ? 1 : 0;
 */
export function needingAttention(
  rows: readonly FleetRow[],
  thresholds: FleetThresholds,
): FleetRow[] {
  return rows.filter((row) => {
    const health = healthOf(row, thresholds);
    return health !== "renew" && health !== "ok";
  });
}

/**
 * Rows sorted by time left, least first; rows without an SVID come first,
 * ties in SPIFFE ID order so the output is stable.
 *
 * @example
 * const table = byTimeLeft(fleet.rows, new Date());
 */
export function byTimeLeft(rows: readonly FleetRow[], now: Date): FleetRow[] {
  const key = (row: FleetRow) => msLeft(row, now) ?? Number.NEGATIVE_INFINITY;
  return [...rows].sort(
    (a, b) =>
      key(a) - key(b) ||
      a.spiffeId.localeCompare(b.spiffeId) ||
      a.accountId.localeCompare(b.accountId),
  );
}
