import { z } from "zod";
import { parseInvocation } from "../../lib/invocation/index.ts";
import { SyncerEventError } from "./errors.ts";

/** `detail-type` of the manual re-sync event on EventBridge. */
export const RESYNC_DETAIL_TYPE = "lambda-svid.resync";

/** What one run is asked to do: everything, or only the named Keywhiz secrets; `force` rewrites unchanged ones. */
export interface SyncRequest {
  force: boolean;
  secrets?: readonly string[];
}

const RESYNC = {
  detailType: RESYNC_DETAIL_TYPE,
  action: "resync",
  request: { force: z.boolean().optional(), secrets: z.array(z.string().min(1)).min(1).optional() },
};

/**
 * Turns an invocation event into a run request: the EventBridge schedule, an
 * EventBridge `lambda-svid.resync` event or a direct `{"action": "resync"}`
 * that may name `secrets` and may `force` a rewrite.
 *
 * @throws {SyncerEventError}
 * @example
 * parseSyncerEvent({ action: "resync", secrets: ["db-password"], force: true });
 */
export function parseSyncerEvent(event: unknown): SyncRequest {
  const r = parseInvocation(event, RESYNC, (message) => new SyncerEventError(message));
  if (r === undefined) return { force: false };
  return { force: r.force ?? false, ...(r.secrets ? { secrets: r.secrets } : {}) };
}
