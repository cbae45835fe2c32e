/**
 * When an SVID held in memory must be read again. One rule for the extension
 * and for the in-process client, so both rotate alike.
 */

/** How long a read SVID is trusted to be the current one, and how close to expiry it may get. */
export interface FreshnessPolicy {
  /** Re-read after this long, so a re-issued SVID is picked up well before the old one ends. */
  refreshIntervalMs: number;
  /** Re-read when less than this is left of the SVID's validity. */
  refreshThresholdMs: number;
}

/** Defaults: the issuer re-issues hours before expiry; an hour's lag is harmless. */
export const DEFAULT_FRESHNESS: FreshnessPolicy = {
  refreshIntervalMs: 3_600_000,
  refreshThresholdMs: 6 * 3_600_000,
};

/**
 * - `fresh`: use it;
 * - `stale`: use it, and re-read in the background;
 * - `expired`: never use it; re-read before serving.
 */
export type Freshness = "fresh" | "stale" | "expired";

/**
 * Classifies an SVID read at `fetchedAt` that is valid until `notAfter`.
 *
 * @example
 * freshness({ notAfter, fetchedAt }, new Date(), DEFAULT_FRESHNESS); // "fresh"
 */
export function freshness(
  held: { notAfter: Date; fetchedAt: Date },
  now: Date,
  policy: FreshnessPolicy,
): Freshness {
  const t = now.getTime();
  const left = held.notAfter.getTime() - t;
  if (left <= 0) return "expired";
  if (t - held.fetchedAt.getTime() >= policy.refreshIntervalMs) return "stale";
  if (left <= policy.refreshThresholdMs) return "stale";
  return "fresh";
}
