import { describe, expect, it } from "vitest";
import { ConfigError, EnvReader, formatDuration, parseDuration } from "../../lib/config/index.ts";
import { thrown } from "../support/thrown.ts";

describe("durations", () => {
  it("parses and formats", () => {
    expect(parseDuration("24h")).toBe(86_400_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("1.5h")).toBeUndefined();
    expect(parseDuration("h")).toBeUndefined();
    expect(formatDuration(5_400_000)).toBe("1h30m");
    expect(formatDuration(-61_000)).toBe("-1m1s");
  });
});

describe("EnvReader", () => {
  const r = new EnvReader({ N: "7", F: "0.5", B: "true", D: "90m", S: " text ", E: "  ", O: "b" });

  it("reads trimmed values, and unset or blank as the fallback", () => {
    expect(r.optional("S")).toBe("text");
    expect(r.optional("E")).toBeUndefined();
    expect(r.string("MISSING", "fallback")).toBe("fallback");
    expect([r.integer("N", 0, 0, 10), r.number("F", 1, 0.1, 2), r.boolean("B", false)]).toEqual([
      7,
      0.5,
      true,
    ]);
    expect(r.duration("D", 0, 0, 86_400_000, "a duration")).toBe(5_400_000);
    expect(r.oneOf("O", ["a", "b"] as const, "a")).toBe("b");
  });

  it("names the variable, the value and what was expected", () => {
    expect(thrown(() => r.integer("N", 0, 0, 5), ConfigError).message).toBe(
      'config: N is "7"; expected an integer from 0 to 5',
    );
    expect(thrown(() => r.required("MISSING", "a name"), ConfigError).variable).toBe("MISSING");
    expect(thrown(() => r.oneOf("O", ["x"] as const, "x"), ConfigError).message).toBe(
      'config: O is "b"; expected one of x',
    );
  });
});
