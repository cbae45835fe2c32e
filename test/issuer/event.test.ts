import { describe, expect, it } from "vitest";
import { IssuerEventError, IssuerEventReason } from "../../functions/issuer/errors.ts";
import { parseIssuerEvent } from "../../functions/issuer/event.ts";
import { thrown } from "../support/thrown.ts";

const scheduled = {
  version: "0",
  id: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
  "detail-type": "Scheduled Event",
  source: "aws.events",
  account: "123456789012",
  time: "2026-11-23T01:00:00Z",
  region: "us-east-1",
  resources: ["arn:aws:events:us-east-1:123456789012:rule/lambda-svid-issuer"],
  detail: {},
};

describe("issuer events", () => {
  it("a scheduled event runs everything without force", () => {
    expect(parseIssuerEvent(scheduled)).toEqual({ force: false });
  });

  it("an EventBridge reissue event may narrow and force", () => {
    expect(
      parseIssuerEvent({
        ...scheduled,
        source: "platform.security",
        "detail-type": "lambda-svid.reissue",
        detail: { force: true, accounts: ["111122223333"], environments: ["prod"] },
      }),
    ).toEqual({ force: true, accounts: ["111122223333"], environments: ["prod"] });
  });

  it("a direct invoke reissue may narrow by service", () => {
    expect(parseIssuerEvent({ action: "reissue", services: ["payments"] })).toEqual({
      force: false,
      services: ["payments"],
    });
  });

  it.each([
    [{}, "got an event of another shape"],
    [null, "got an event of another shape"],
    ["reissue", "got an event of another shape"],
    [{ action: "reissue", accounts: ["12"] }, "accounts.0: a 12-digit AWS account id"],
    [{ action: "reissue", force: "yes" }, "force:"],
    [{ action: "delete" }, "action:"],
    [{ action: "reissue", account: ["111122223333"] }, "Unrecognized key"],
    [
      { "detail-type": "lambda-svid.reissue", source: "x", detail: { services: [] } },
      "detail.services",
    ],
  ])("rejects %j with a validation error", (event, fragment) => {
    const err = thrown(() => parseIssuerEvent(event), IssuerEventError);
    expect(err.reason).toBe(IssuerEventReason.NOT_ACCEPTED);
    expect(err.message).toMatch(/^issuer: invocation event not accepted: event: expected /);
    expect(err.message).toContain(fragment);
  });

  it("says exactly what it expected of an event of another shape", () => {
    expect(thrown(() => parseIssuerEvent({}), IssuerEventError).message).toBe(
      'issuer: invocation event not accepted: event: expected an EventBridge "Scheduled Event", an EventBridge "lambda-svid.reissue" event, or {"action": "reissue", ...}; got an event of another shape',
    );
  });
});

describe("Organizations change events", () => {
  const cloudTrail = (eventName: string, detail: Record<string, unknown>) => ({
    ...scheduled,
    source: "aws.organizations",
    "detail-type": "AWS API Call via CloudTrail",
    detail: { eventSource: "organizations.amazonaws.com", eventName, ...detail },
  });

  it.each([
    ["TagResource", { requestParameters: { resourceId: "111122223333", tags: [] } }],
    ["UntagResource", { requestParameters: { resourceId: "111122223333", tagKeys: [] } }],
    ["MoveAccount", { requestParameters: { accountId: "111122223333" } }],
    ["RemoveAccountFromOrganization", { requestParameters: { accountId: "111122223333" } }],
    ["CloseAccount", { requestParameters: { accountId: "111122223333" } }],
  ])("%s names the account whose tags the planner reads first", (name, detail) => {
    expect(parseIssuerEvent(cloudTrail(name, detail))).toEqual({
      force: false,
      changedAccounts: ["111122223333"],
    });
  });

  it("CreateAccountResult (a service event) names the new account", () => {
    const event = {
      ...cloudTrail("CreateAccountResult", {
        serviceEventDetails: {
          createAccountStatus: { accountId: "444455556666", state: "SUCCEEDED" },
        },
      }),
      "detail-type": "AWS Service Event via CloudTrail",
    };
    expect(parseIssuerEvent(event)).toEqual({ force: false, changedAccounts: ["444455556666"] });
  });

  it("a change that names no account (an accepted invitation, tags on an OU) lists the Organization again", () => {
    expect(parseIssuerEvent(cloudTrail("AcceptHandshake", {}))).toEqual({
      force: false,
      relist: true,
    });
    expect(
      parseIssuerEvent(
        cloudTrail("TagResource", { requestParameters: { resourceId: "ou-ab12-cd34ef56" } }),
      ),
    ).toEqual({ force: false, relist: true });
  });

  it("another Organizations event is refused by its name", () => {
    const err = thrown(() => parseIssuerEvent(cloudTrail("CreatePolicy", {})), IssuerEventError);
    expect(err.reason).toBe(IssuerEventReason.NOT_ACCEPTED);
    expect(err.message).toContain('got eventName "CreatePolicy"');
  });
});
