/** Fixed reasons for the syncer's own failures and refusals. */
export const SyncerReason = {
  /** The run holds back its deletions; the report says why, and a forced re-sync performs them. */
  DELETION_REFUSED: "syncer: deletion refused",
  CONTENT_KEY: "syncer: the content key secret is not usable",
  NOT_OWNED: "syncer: the secret is not owned by the syncer",
} as const;
export type SyncerReason = (typeof SyncerReason)[keyof typeof SyncerReason];

/**
 * A failure of the syncer's own making, prefixed with its fixed reason.
 * Messages name secrets, never their content or the content key.
 *
 * @example
 * throw new SyncerError(SyncerReason.NOT_OWNED, JSON.stringify("keywhiz/db"));
 */
export class SyncerError extends Error {
  readonly reason: SyncerReason;

  constructor(reason: SyncerReason, detail?: string, options?: { cause?: unknown }) {
    super(detail === undefined ? reason : `${reason}: ${detail}`, options);
    this.name = "SyncerError";
    this.reason = reason;
  }
}
