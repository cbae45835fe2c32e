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

const ACCOUNT_ID = /^\d{12}$/;

/**
 * Organizations API calls (CloudTrail, through EventBridge) that change what
 * the registry says, and where each names the account it changed. Membership
 * changes that name no account in a fixed place (an accepted invitation)
 * have the planner list the Organization again.
 */
const ORGANIZATIONS_EVENTS: Record<string, (detail: Record<string, unknown>) => unknown> = {
  TagResource: (d) => field(d, "requestParameters", "resourceId"),
  UntagResource: (d) => field(d, "requestParameters", "resourceId"),
  MoveAccount: (d) => field(d, "requestParameters", "accountId"),
  RemoveAccountFromOrganization: (d) => field(d, "requestParameters", "accountId"),
  CloseAccount: (d) => field(d, "requestParameters", "accountId"),
  CreateAccountResult: (d) => field(d, "serviceEventDetails", "createAccountStatus", "accountId"),
  AcceptHandshake: () => undefined,
  InviteAccountToOrganization: () => undefined,
};

function field(value: unknown, ...path: string[]): unknown {
  let at = value;
  for (const key of path) {
    if (typeof at !== "object" || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/**
 * An Organizations change delivered by EventBridge: the account it names
 * (tags re-read first, then planned), or a request to list the Organization
 * again. `undefined` when the event is not from Organizations; an
 * Organizations event of another kind is refused by name.
 */
function organizationsChange(event: unknown): IssuerRequest | undefined {
  if (field(event, "source") !== "aws.organizations") return undefined;
  const name = field(event, "detail", "eventName");
  const locate = typeof name === "string" ? ORGANIZATIONS_EVENTS[name] : undefined;
  if (locate === undefined) {
    throw new IssuerEventError(
      `event: an aws.organizations event with eventName one of ${Object.keys(ORGANIZATIONS_EVENTS).join(", ")}; got eventName ${JSON.stringify(name)}`,
    );
  }
  const accountId = locate(field(event, "detail") as Record<string, unknown>);
  if (typeof accountId === "string" && ACCOUNT_ID.test(accountId)) {
    return { force: false, changedAccounts: [accountId] };
  }
  // Tags on an OU or a policy, or a change that names no account: list again to be sure.
  return { force: false, relist: true };
}

/**
 * Turns an invocation event into a run request. Accepted: the EventBridge
 * scheduled event (a full run); an EventBridge `lambda-svid.reissue` event or
 * a direct invoke `{"action": "reissue"}`, either of which may narrow the run
 * to `accounts`, `services`, `environments` and may `force` renewal; and an
 * Organizations change (`source` `aws.organizations`, CloudTrail API call or
 * service event) that names the account whose tags to read again.
 *
 * @throws {IssuerEventError}
 * @example
 * parseIssuerEvent({ action: "reissue", accounts: ["111122223333"], force: true });
 */
export function parseIssuerEvent(event: unknown): IssuerRequest {
  const change = organizationsChange(event);
  if (change !== undefined) return change;
  const r = parseInvocation(event, REISSUE, (message) => new IssuerEventError(message));
  if (r === undefined) return { force: false };
  return {
    force: r.force ?? false,
    ...(r.accounts ? { accounts: r.accounts } : {}),
    ...(r.services ? { services: r.services } : {}),
    ...(r.environments ? { environments: r.environments } : {}),
  };
}
