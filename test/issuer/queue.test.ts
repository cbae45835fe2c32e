import { describe, expect, it } from "vitest";
import { QueueError, QueueReason } from "../../functions/issuer/errors.ts";
import { parseWorkMessage } from "../../functions/issuer/queue.ts";
import { thrown } from "../support/thrown.ts";

const good = {
  v: 1,
  accountId: "111122223333",
  service: "web",
  environment: "prod",
  spiffeId: "spiffe://example.org/prod/web",
  reason: "renew",
  plannedAt: "2026-11-24T12:00:00.000Z",
  previous: { secretArn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:x-AbCdEf" },
};

describe("work messages", () => {
  it("parses what the planner sends", () => {
    expect(parseWorkMessage(JSON.stringify(good))).toEqual(good);
  });

  it.each([
    ["not JSON", "{", "body is not JSON"],
    ["a short account id", JSON.stringify({ ...good, accountId: "1234" }), "field accountId"],
    ["an unknown reason", JSON.stringify({ ...good, reason: "later" }), "field reason"],
    ["another version", JSON.stringify({ ...good, v: 2 }), "field v"],
    [
      "a SPIFFE ID with a bad path",
      JSON.stringify({ ...good, spiffeId: "spiffe://example.org/a//b" }),
      "field spiffeId",
    ],
    [
      "a plannedAt that is not a time",
      JSON.stringify({ ...good, plannedAt: "soon" }),
      "field plannedAt",
    ],
  ])("refuses %s, naming the field", (_name, body, detail) => {
    const err = thrown(() => parseWorkMessage(body), QueueError);
    expect(err.reason).toBe(QueueReason.MESSAGE_INVALID);
    expect(err.message).toContain(detail);
  });
});
