import { describe, expect, it } from "vitest";
import { decide } from "../../functions/issuer/planner.ts";
import type { PlanRecord, StateRecord } from "../../functions/issuer/store.ts";
import { parseSpiffeId } from "../../layers/spiffe/index.ts";

const HOUR = 3_600_000;
const NOW = new Date("2026-11-24T12:00:00.000Z");
const at = (hours: number) => new Date(NOW.getTime() + hours * HOUR).toISOString();
const ID = "spiffe://example.org/prod/web";
const identity = {
  accountId: "111122223333",
  service: "web",
  environment: "prod",
  spiffeId: parseSpiffeId(ID),
};
const settings = {
  renewBeforeMs: 8 * HOUR,
  checkIntervalMs: 24 * HOUR,
  pendingTimeoutMs: 6 * HOUR,
};
const issued = (fields: Partial<StateRecord> = {}): StateRecord => ({
  accountId: identity.accountId,
  spiffeId: ID,
  outcome: "issued",
  plannedAt: at(-2),
  notAfter: at(20),
  seenAt: at(-2),
  secretArn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:lambda-svid/svid-AbCdEf",
  ...fields,
});
const plan = (fields: Partial<PlanRecord> = {}): PlanRecord => ({
  accountId: identity.accountId,
  plannedAt: at(-2),
  reason: "renew",
  spiffeId: ID,
  ...fields,
});

describe("the planner's decision per identity", () => {
  it.each<
    [string, StateRecord | undefined, PlanRecord | undefined, boolean, ReturnType<typeof decide>]
  >([
    ["never issued", undefined, undefined, false, "new"],
    [
      "last attempt failed without ever issuing",
      issued({ notAfter: undefined, outcome: "failed" }),
      plan(),
      false,
      "new",
    ],
    ["fresh and recently seen", issued(), plan(), false, undefined],
    ["inside the renewal window", issued({ notAfter: at(7) }), plan(), false, "renew"],
    ["exactly at the renewal window", issued({ notAfter: at(8) }), plan(), false, "renew"],
    [
      "the registry gives it another SPIFFE ID",
      issued({ spiffeId: "spiffe://example.org/prod/old" }),
      plan(),
      false,
      "changed",
    ],
    [
      "not written or checked for the check interval",
      issued({ seenAt: at(-24), notAfter: at(20) }),
      plan(),
      false,
      "check",
    ],
    ["forced", issued(), plan(), true, "reissue"],
    [
      "queued an hour ago, no outcome yet",
      issued({ plannedAt: at(-20) }),
      plan({ plannedAt: at(-1) }),
      false,
      "pending",
    ],
    [
      "queued longer ago than the pending timeout",
      issued({ plannedAt: at(-20), notAfter: at(7) }),
      plan({ plannedAt: at(-7) }),
      false,
      "renew",
    ],
    [
      "queued for an ID the registry no longer gives it",
      issued({ plannedAt: at(-20), spiffeId: "spiffe://example.org/prod/old" }),
      plan({ plannedAt: at(-1), spiffeId: "spiffe://example.org/prod/old" }),
      false,
      "changed",
    ],
    [
      "queued, and forced again",
      issued({ plannedAt: at(-20) }),
      plan({ plannedAt: at(-1) }),
      true,
      "reissue",
    ],
  ])("%s", (_name, state, planned, force, expected) => {
    expect(decide(identity, state, planned, NOW, settings, force)).toBe(expected);
  });
});
