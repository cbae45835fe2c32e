import { SyncerReason } from "./errors.ts";

/** What a run would delete, and what it knows about its source. */
export interface DeletionPlan {
  /** Mirrored secrets the run would delete. */
  deleting: number;
  /** Mirrored secrets that exist now (owned, not already scheduled for deletion). */
  mirrored: number;
  /** Entries in Keywhiz's listing, before the opt-in filter. */
  listed: number;
  /** `LAMBDA_SVID_SYNC_MAX_DELETE_PERCENT`. */
  maxDeletePercent: number;
  /** A re-sync with `force`: the operator has looked, deletions go ahead. */
  force: boolean;
}

/**
 * Why the run must not delete, or `undefined` when it may. A source that
 * lists nothing while mirrored secrets exist, or a run that would delete more
 * than the configured share of them, is more likely broken (a lost ACL, a bad
 * opt-in deploy) than right; the whole set is held back, never a part of it,
 * so a forced re-sync decides about all of it at once.
 *
 * @example
 * refuseDeletion({ deleting: 2, mirrored: 3, listed: 1, maxDeletePercent: 50, force: false });
 * // "syncer: deletion refused: the run would delete 2 of 3 mirrored secrets (67%), more than ..."
 */
export function refuseDeletion(plan: DeletionPlan): string | undefined {
  if (plan.force || plan.deleting === 0) return undefined;
  const force = "a re-sync with force deletes them";
  if (plan.listed === 0) {
    return `${SyncerReason.DELETION_REFUSED}: Keywhiz listed no secrets while ${plan.mirrored} mirrored secrets exist; ${force}`;
  }
  if (plan.deleting * 100 > plan.maxDeletePercent * plan.mirrored) {
    const percent = Math.round((plan.deleting * 100) / plan.mirrored);
    return `${SyncerReason.DELETION_REFUSED}: the run would delete ${plan.deleting} of ${plan.mirrored} mirrored secrets (${percent}%), more than LAMBDA_SVID_SYNC_MAX_DELETE_PERCENT=${plan.maxDeletePercent}; ${force}`;
  }
  return undefined;
}
