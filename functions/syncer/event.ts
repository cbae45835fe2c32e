import { z } from "zod";

/** `detail-type` of the manual re-sync event on EventBridge. */
export const RESYNC_DETAIL_TYPE = "lambda-svid.resync";

/** What one run is asked to do: everything, or only the named Keywhiz secrets; `force` rewrites unchanged ones. */
export interface SyncRequest {
  force: boolean;
  secrets?: readonly string[];
}

const resync = z
  .object({ force: z.boolean().optional(), secrets: z.array(z.string().min(1)).min(1).optional() })
  .strict();
const scheduled = z.object({
  source: z.literal("aws.events"),
  "detail-type": z.literal("Scheduled Event"),
});
const eventBridgeResync = z.object({
  "detail-type": z.literal(RESYNC_DETAIL_TYPE),
  source: z.string().min(1),
  detail: resync,
});
const directResync = resync.extend({ action: z.literal("resync") }).strict();

/** The event is none of the accepted shapes. */
export class SyncerEventError extends Error {
  constructor(detail: string) {
    super(
      `event: expected an EventBridge "Scheduled Event", an EventBridge "${RESYNC_DETAIL_TYPE}" event, or {"action": "resync", ...}; ${detail}`,
    );
    this.name = "SyncerEventError";
  }
}

/**
 * Turns an invocation event into a run request.
 *
 * @throws {SyncerEventError}
 * @example
 * parseSyncerEvent({ action: "resync", secrets: ["db-password"], force: true });
 */
export function parseSyncerEvent(event: unknown): SyncRequest {
  if (scheduled.safeParse(event).success) return { force: false };
  const o =
    typeof event === "object" && event !== null ? (event as Record<string, unknown>) : undefined;
  const parsed =
    o?.["detail-type"] === RESYNC_DETAIL_TYPE
      ? eventBridgeResync.safeParse(event)
      : o !== undefined && "action" in o
        ? directResync.safeParse(event)
        : undefined;
  if (parsed === undefined) throw new SyncerEventError("got an event of another shape");
  if (!parsed.success) {
    throw new SyncerEventError(
      parsed.error.issues.map((i) => `${i.path.join(".") || "(event)"}: ${i.message}`).join("; "),
    );
  }
  const r = "detail" in parsed.data ? parsed.data.detail : parsed.data;
  return { force: r.force ?? false, ...(r.secrets ? { secrets: r.secrets } : {}) };
}
