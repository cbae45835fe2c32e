import { z } from "zod";
import type { IssuerRequest } from "./run.ts";

/** `detail-type` of the manual re-issue event on EventBridge. */
export const REISSUE_DETAIL_TYPE = "lambda-svid.reissue";

const reissue = z
  .object({
    force: z.boolean().optional(),
    accounts: z
      .array(z.string().regex(/^\d{12}$/, "a 12-digit AWS account id"))
      .min(1)
      .optional(),
    services: z.array(z.string().min(1)).min(1).optional(),
    environments: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();

const scheduled = z.object({
  source: z.literal("aws.events"),
  "detail-type": z.literal("Scheduled Event"),
});

const eventBridgeReissue = z.object({
  "detail-type": z.literal(REISSUE_DETAIL_TYPE),
  source: z.string().min(1),
  detail: reissue,
});

const directReissue = reissue.extend({ action: z.literal("reissue") }).strict();

/** The event is none of the accepted shapes; the message says what was expected and what was wrong. */
export class IssuerEventError extends Error {
  constructor(detail: string) {
    super(
      `event: expected an EventBridge "Scheduled Event", an EventBridge "${REISSUE_DETAIL_TYPE}" event, or {"action": "reissue", ...}; ${detail}`,
    );
    this.name = "IssuerEventError";
  }
}

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
  if (scheduled.safeParse(event).success) return { force: false };
  const isObject = typeof event === "object" && event !== null;
  if (
    isObject &&
    "detail-type" in event &&
    (event as Record<string, unknown>)["detail-type"] === REISSUE_DETAIL_TYPE
  ) {
    const parsed = eventBridgeReissue.safeParse(event);
    if (!parsed.success) throw new IssuerEventError(describeIssues(parsed.error));
    return toRequest(parsed.data.detail);
  }
  if (isObject && "action" in event) {
    const parsed = directReissue.safeParse(event);
    if (!parsed.success) throw new IssuerEventError(describeIssues(parsed.error));
    return toRequest(parsed.data);
  }
  throw new IssuerEventError("got an event of another shape");
}

function toRequest(r: z.infer<typeof reissue>): IssuerRequest {
  return {
    force: r.force ?? false,
    ...(r.accounts ? { accounts: r.accounts } : {}),
    ...(r.services ? { services: r.services } : {}),
    ...(r.environments ? { environments: r.environments } : {}),
  };
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(event)"}: ${i.message}`).join("; ");
}
