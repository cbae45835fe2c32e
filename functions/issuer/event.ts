import { z } from "zod";
import { parseInvocation } from "../../lib/invocation/index.ts";
import { IssuerEventError } from "./errors.ts";
import type { IssuerRequest } from "./run.ts";

/** `detail-type` of the manual re-issue event on EventBridge. */
export const REISSUE_DETAIL_TYPE = "lambda-svid.reissue";

const REISSUE = {
  detailType: REISSUE_DETAIL_TYPE,
  action: "reissue",
  request: {
    force: z.boolean().optional(),
    accounts: z
      .array(z.string().regex(/^\d{12}$/, "a 12-digit AWS account id"))
      .min(1)
      .optional(),
    services: z.array(z.string().min(1)).min(1).optional(),
    environments: z.array(z.string().min(1)).min(1).optional(),
  },
};

/**
 * Turns an invocation event into a run request. Accepted: the EventBridge
 * scheduled event (a full run); an EventBridge `lambda-svid.reissue` event or
 * a direct invoke `{"action": "reissue"}`, either of which may narrow the run
 * to `accounts`, `services`, `environments` and may `force` renewal.
 *
 * @throws {IssuerEventError}
 * @example
 * parseIssuerEvent({ action: "reissue", accounts: ["111122223333"], force: true });
 */
export function parseIssuerEvent(event: unknown): IssuerRequest {
  const r = parseInvocation(event, REISSUE, (message) => new IssuerEventError(message));
  if (r === undefined) return { force: false };
  return {
    force: r.force ?? false,
    ...(r.accounts ? { accounts: r.accounts } : {}),
    ...(r.services ? { services: r.services } : {}),
    ...(r.environments ? { environments: r.environments } : {}),
  };
}
