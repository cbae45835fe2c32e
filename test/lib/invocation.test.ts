import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseInvocation } from "../../lib/invocation/index.ts";
import { thrown } from "../support/thrown.ts";

class BadEvent extends Error {}

const SHAPES = {
  detailType: "example.redo",
  action: "redo",
  request: { force: z.boolean().optional(), names: z.array(z.string()).optional() },
};
const parse = (event: unknown) =>
  parseInvocation(event, SHAPES, (message) => new BadEvent(message));
const EXPECTED =
  'event: expected an EventBridge "Scheduled Event", an EventBridge "example.redo" event, or {"action": "redo", ...}';

const failure = (event: unknown) => thrown(() => parse(event), BadEvent).message;

describe("parseInvocation", () => {
  it("reads the schedule as no request", () => {
    expect(parse({ source: "aws.events", "detail-type": "Scheduled Event", detail: {} })).toBe(
      undefined,
    );
  });

  it("reads a manual EventBridge event's detail and a direct invoke alike", () => {
    const request = { force: true, names: ["a"] };
    expect(parse({ source: "ops", "detail-type": "example.redo", detail: request })).toEqual(
      request,
    );
    expect(parse({ action: "redo", ...request })).toEqual(request);
    expect(parse({ action: "redo" })).toEqual({});
  });

  it.each([
    [null, `${EXPECTED}; got an event of another shape`],
    ["redo", `${EXPECTED}; got an event of another shape`],
    [{ source: "aws.events" }, `${EXPECTED}; got an event of another shape`],
  ])("refuses %j as of another shape", (event, message) => {
    expect(failure(event)).toBe(message);
  });

  it("names each wrong field, and refuses fields it does not know", () => {
    expect(failure({ action: "undo" })).toMatch(
      new RegExp(`^${EXPECTED.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}; action: `),
    );
    expect(failure({ action: "redo", force: "yes" })).toContain("; force: ");
    expect(failure({ action: "redo", extra: 1 })).toContain("; (event): ");
    expect(
      failure({ source: "ops", "detail-type": "example.redo", detail: { names: [1] } }),
    ).toContain("; detail.names.0: ");
    expect(failure({ source: "", "detail-type": "example.redo", detail: {} })).toContain(
      "; source: ",
    );
  });
});
